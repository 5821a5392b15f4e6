import { contract, options } from "./contract/OrderStoreContract.js"
import { sqliteLayer } from "./support/Databases.js"

contract("SQLite file", sqliteLayer({ synchronous: "normal", ...options }))
