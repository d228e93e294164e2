//! The `orderStage` dictionary of a build that folds batches as they are read. Codes
//! follow string order (so a state's smallest stage is its smallest code), and a batch
//! may bring a stage not seen before: the dictionary then grows, the states folded so
//! far are recoded, and the older dictionary is kept as a generation for what was
//! written out in its codes (spill files).

use std::sync::RwLock;

use arrow2::array::Utf8Array;
use ccc_ingest::schema as src;
use ccc_ingest::{Batch, Table};

use crate::build::column;
use crate::dictionary::{self, Dictionary};

/// Every stage seen so far, one sorted dictionary per generation; the last is current.
pub(crate) struct StageCodes {
    generations: RwLock<Vec<Dictionary>>,
}

impl StageCodes {
    pub fn new() -> Self {
        Self {
            generations: RwLock::new(vec![Dictionary::default()]),
        }
    }

    /// Runs `fold` with the codes of `batch`'s stages in the current dictionary and its
    /// generation, while the dictionary is held so that no recoding runs in between.
    /// When the batch brings new stages the dictionary grows first, and `recode_states`
    /// is given the old codes' new values to recode every state folded so far.
    pub fn fold<R>(
        &self,
        batch: &Batch,
        recode_states: impl Fn(&[u32]),
        fold: impl FnOnce(&[u32], u32) -> R,
    ) -> R {
        let stage_array = column::<Utf8Array<i32>>(batch, Table::ChatMessages, src::ORDER_STAGE);
        let (local, mut codes) = dictionary::encode(&[stage_array]);
        let mut codes = codes.pop().unwrap_or_default();
        loop {
            let generations = self
                .generations
                .read()
                .expect("no thread panics holding the lock");
            let current = generations.last().expect("a first generation");
            let Some(recode) = recoding(&local, current) else {
                drop(generations);
                self.learn(&local, &recode_states);
                continue;
            };
            codes.iter_mut().for_each(|c| *c = recode[*c as usize]);
            return fold(&codes, (generations.len() - 1) as u32);
        }
    }

    /// Adds `local`'s stages, recoding the states when that changes the codes. New stages
    /// are rare after the first batches: the states are recoded a handful of times a
    /// run, however large.
    fn learn(&self, local: &Dictionary, recode_states: &impl Fn(&[u32])) {
        let mut generations = self
            .generations
            .write()
            .expect("no thread panics holding the lock");
        let current = generations.last().expect("a first generation");
        if recoding(local, current).is_some() {
            return; // another thread learnt them first
        }
        let grown = Dictionary::from_values(
            current
                .values()
                .iter()
                .chain(local.values())
                .cloned()
                .collect(),
        );
        recode_states(&recoding(current, &grown).expect("the grown dictionary holds the old one"));
        generations.push(grown);
    }

    /// Every generation, the current one last.
    pub fn into_generations(self) -> Vec<Dictionary> {
        self.generations.into_inner().expect("no thread panicked")
    }
}

/// Codes of `from` (0 = null first) in `to`, if `to` holds all of `from`'s values.
pub(crate) fn recoding(from: &Dictionary, to: &Dictionary) -> Option<Vec<u32>> {
    std::iter::once(Some(0))
        .chain(from.values().iter().map(|v| to.code(v)))
        .collect()
}
