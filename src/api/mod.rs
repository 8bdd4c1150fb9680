//! The typed user API: what users implement (mappers, reducers, combiners),
//! what they call (the emitter, the value iterator) and how they assemble
//! steps into jobs.

pub(crate) mod aggregate;
pub(crate) mod context;
pub mod counters;
pub(crate) mod emitter;
pub mod input;
pub mod job;
pub(crate) mod job_options;
pub(crate) mod side;
pub mod step;
pub(crate) mod task;
pub(crate) mod values;

pub use emitter::Emitter;
pub use job_options::JobOptions;
pub use side::SideFile;
pub use task::{Combiner, Key, Mapper, Reducer, TaskResult, Value};
pub use values::Values;
