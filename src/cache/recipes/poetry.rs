//! poetry (stub: recipe to be written).

use crate::cache::recipe::Recipe;

pub static RECIPES: &[Recipe] = &[];
