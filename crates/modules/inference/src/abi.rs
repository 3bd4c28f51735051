//! The Solidity ABI, from `contracts/interfaces/IInference.sol`.

alloy_sol_types::sol! {
    #![sol(all_derives)]
    "../../../contracts/interfaces/IInference.sol"
}
