//! A bounded cache of compiled models and of outputs, shared by every executor in the node.
//!
//! Both maps are keyed by content (model hash, input hash), and inference is a pure
//! function of those, so a hit returns exactly what a run would. Gas never depends on the
//! cache: validators' caches differ.

use crate::{Model, ModelError, RunError, tensor_hash};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

type OutputKey = ([u8; 32], [u8; 32]);

/// Compiled models by hash and outputs by (model hash, input hash), each evicting its
/// oldest entry past its bound.
pub struct ModelCache {
    models: Mutex<Bounded<[u8; 32], Arc<Model>>>,
    outputs: Mutex<Bounded<OutputKey, Arc<Vec<f32>>>>,
}

struct Bounded<K, V> {
    map: HashMap<K, V>,
    order: VecDeque<K>,
    cap: usize,
}

impl<K: std::hash::Hash + Eq + Copy, V: Clone> Bounded<K, V> {
    fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }
    fn get(&self, k: &K) -> Option<V> {
        self.map.get(k).cloned()
    }
    fn insert(&mut self, k: K, v: V) {
        if self.map.insert(k, v).is_none() {
            self.order.push_back(k);
            while self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
}

impl ModelCache {
    /// A cache holding at most `models` compiled models and `outputs` outputs.
    pub fn new(models: usize, outputs: usize) -> Self {
        Self {
            models: Mutex::new(Bounded::new(models)),
            outputs: Mutex::new(Bounded::new(outputs)),
        }
    }

    /// The compiled model with this hash, compiling `bytes()` on a miss. The caller
    /// vouches that `bytes()` hashes to `hash` (it is checked when the model is stored).
    pub fn model(
        &self,
        hash: [u8; 32],
        bytes: impl FnOnce() -> Result<Vec<u8>, ModelError>,
    ) -> Result<Arc<Model>, ModelError> {
        if let Some(m) = lock(&self.models).get(&hash) {
            return Ok(m);
        }
        let model = Arc::new(Model::load(&bytes()?)?);
        if model.hash() != hash {
            return Err(ModelError::Invalid(
                "stored model bytes do not match their hash".into(),
            ));
        }
        lock(&self.models).insert(hash, model.clone());
        Ok(model)
    }

    /// Keep a model just compiled elsewhere.
    pub fn insert(&self, model: Arc<Model>) {
        lock(&self.models).insert(model.hash(), model);
    }

    /// Run `model` on `input`, or return the output cached for the same model and input.
    pub fn run(&self, model: &Model, input: &[f32]) -> Result<Arc<Vec<f32>>, RunError> {
        let key = (model.hash(), tensor_hash(input));
        if let Some(out) = lock(&self.outputs).get(&key) {
            return Ok(out);
        }
        let out = Arc::new(model.run(input)?);
        lock(&self.outputs).insert(key, out.clone());
        Ok(out)
    }
}

impl Default for ModelCache {
    fn default() -> Self {
        Self::new(32, 4096)
    }
}

/// A poisoned lock only means another thread panicked mid-insert; the maps stay valid.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
