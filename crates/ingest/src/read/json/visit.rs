//! The serde path: seeded visitors that parse a record's known fields straight into their
//! column builders and skip the rest, for every record the fast path gives up on.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::push::{push_bool, push_i64, push_null, push_str, FieldOutcome, Misfit};
use super::tables::{TableColumns, MAX_COLUMNS};
use crate::read::columns::{ColumnBuilder, TableBuilder};

struct KeySeed<'t, C>(&'t C);

impl<'de, C: TableColumns> DeserializeSeed<'de> for KeySeed<'_, C> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<C: TableColumns> Visitor<'_> for KeySeed<'_, C> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.index(key))
    }
}

/// Reads one field's JSON value straight into its column builder.
struct FieldSeed<'b>(&'b mut ColumnBuilder);

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = FieldOutcome;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = FieldOutcome;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(push_null(self.0))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(push_bool(self.0, v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(push_i64(self.0, v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        match i64::try_from(v) {
            Ok(v) => Ok(push_i64(self.0, v)),
            Err(_) => Ok(self
                .0
                .push_json_out_of_i64(true, v as f64)
                .map_err(|k| (k, v.to_string()))),
        }
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // serde_json gives f64 for fractions, exponents and integers beyond u64 — and for
        // `-0`, which is the integer 0.
        if v == 0.0 && v.is_sign_negative() {
            return Ok(self.0.push_json_i64(0).map_err(|k| (k, "-0".to_string())));
        }
        let integral = v.fract() == 0.0 && v.abs() >= 9.2e18;
        Ok(self
            .0
            .push_json_out_of_i64(integral, v)
            .map_err(|k| (k, v.to_string())))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(push_str(self.0, v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.0.push_wrong_type().map_err(|k| (k, "[…]".to_string())))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(self.0.push_wrong_type().map_err(|k| (k, "{…}".to_string())))
    }
}

/// Reads one record into the table's builders: known fields parsed into their columns
/// (the first occurrence of a repeated key wins), unknown ones skipped, missing ones null.
/// Gives `false` when the record is not an object (all its fields are then null).
pub(super) struct RecordSeed<'b, C> {
    pub(super) builder: &'b mut TableBuilder,
    pub(super) misfits: &'b mut Vec<Misfit>,
    pub(super) table: &'b C,
}

impl<C: TableColumns> RecordSeed<'_, C> {
    fn all_null(self) -> bool {
        self.builder
            .columns
            .iter_mut()
            .for_each(ColumnBuilder::push_null);
        false
    }
}

impl<'de, C: TableColumns> DeserializeSeed<'de> for RecordSeed<'_, C> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, C: TableColumns> Visitor<'de> for RecordSeed<'_, C> {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut seen = [false; MAX_COLUMNS];
        while let Some(key) = map.next_key_seed(KeySeed(self.table))? {
            match key {
                Some(i) if !seen[i] => {
                    seen[i] = true;
                    if let Err((kind, raw)) =
                        map.next_value_seed(FieldSeed(&mut self.builder.columns[i]))?
                    {
                        self.misfits.push((i, kind, raw));
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        for (column, seen) in self.builder.columns.iter_mut().zip(seen) {
            if !seen {
                column.push_null();
            }
        }
        Ok(true)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.all_null())
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(self.all_null())
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(self.all_null())
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(self.all_null())
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(self.all_null())
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(self.all_null())
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(self.all_null())
    }
}
