import { MemoryOrderStore } from "@posbridge/core"
import { contract, options } from "./contract/OrderStoreContract.js"

// The reference implementation passes the same contract: the SQL stores are measured against it.
contract("memory (reference)", MemoryOrderStore.layer(options))
