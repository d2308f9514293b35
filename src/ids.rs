//! Dense `u32` ids that index the simulator's `Vec`s. Each kind of thing has
//! its own type so a link id can never index the GPU table.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as an index into the vectors it numbers.
            pub const fn index(self) -> usize {
                self.0 as usize
            }
            /// Panics only if more than 2^32 items exist, which the loaders forbid.
            pub fn from_index(i: usize) -> Self {
                $name(u32::try_from(i).expect(concat!(stringify!($name), " overflow")))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A GPU, numbered globally `0..N`, host-major.
    GpuId
);
id_type!(
    /// A node of the topology graph: a GPU endpoint or a switch.
    NodeId
);
id_type!(
    /// One direction of a full-duplex link.
    LinkId
);
id_type!(
    /// A task of a [`crate::plan::TaskGraph`].
    TaskId
);
