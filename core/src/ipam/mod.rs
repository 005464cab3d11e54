//! The Calico IPAM model and allocator (spec §3, §4): blocks with their ordered free lists,
//! affinities, handles, reservations, AutoAssign, AssignIP, release and utilization.
//!
//! STUB: to be implemented.
