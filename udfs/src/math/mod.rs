//! The numerical core of seglake's models, free of DataFusion and Arrow types so it can be
//! unit-tested and reused: special functions, a quasi-Newton minimiser, and the buy-till-you-die
//! (BG/NBD, MBG/NBD, Pareto/NBD) and Gamma-Gamma models with the discounted lifetime value built on them.

pub mod beta_geometric;
pub mod bgbb;
pub mod bgnbd;
pub mod customers;
pub mod gammagamma;
pub mod hyp2f1_gradient;
pub mod kmeans;
pub mod lifetime_value;
pub mod mbgnbd;
pub mod newton;
pub mod optimize;
pub mod paretonbd;
mod paretonbd_objective;
pub mod special;
pub mod standard_errors;
