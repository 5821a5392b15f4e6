import { contract, options } from "./contract/OrderStoreContract.js"
import { pgLayer, withPostgres } from "./support/Databases.js"

await withPostgres(() => contract("PostgreSQL", pgLayer(options)))
