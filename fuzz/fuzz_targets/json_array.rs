//! The json_array source reader: the bytes as `customer_courier_chat_messages_1.json` and
//! `orders_1.json`, read by `ccc_ingest::read_sources` with default options and
//! again in 64-byte chunks with presence-only columns; see `ccc_fuzz::fuzz_source`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ccc_fuzz::fuzz_source(data, ccc_ingest::Format::Json);
});
