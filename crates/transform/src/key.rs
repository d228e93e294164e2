//! The total order over an order's messages, which makes "first" and "last" exact:
//! by `messageSentTime`, then `chatStartedByMessage = true` first, then role `courier`
//! before `customer`, then `fromId` (null first), then `orderStage` (null first).

/// The sender's role, from the first word of `senderAppType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// `Courier iOS`, `Courier Android`, …
    Courier,
    /// `Customer iOS`, `Customer Android`, …
    Customer,
}

impl Role {
    /// The role of a `senderAppType`: its first word, case-insensitive; `None` when the
    /// first word is neither `courier` nor `customer`.
    pub fn of_sender_app_type(text: &str) -> Option<Role> {
        // Every message goes through here: when the text starts with a word character,
        // compare that word in place instead of splitting on Unicode whitespace. Its first
        // eight bytes are compared as one integer with bit 5 set in every byte, which
        // folds exactly the two cases of each letter of "courier" and "customer" together.
        let bytes = text.as_bytes();
        if bytes.first().is_some_and(|b| b.is_ascii_alphanumeric()) {
            const FOLD: u64 = 0x2020_2020_2020_2020;
            let ends_word = |at: usize| match bytes.get(at) {
                None | Some(b' ') => true,
                Some(b) if b.is_ascii() => b.is_ascii_whitespace() || *b == 0x0b,
                Some(_) => text[at..].chars().next().is_some_and(char::is_whitespace),
            };
            let head = match bytes.get(..8) {
                Some(eight) => u64::from_le_bytes(eight.try_into().expect("8 bytes")),
                None => {
                    let mut eight = [0u8; 8];
                    eight[..bytes.len()].copy_from_slice(bytes);
                    u64::from_le_bytes(eight)
                }
            };
            let courier = u64::from_le_bytes(*b"courier\0");
            let customer = u64::from_le_bytes(*b"customer");
            return if (head | FOLD) & 0x00ff_ffff_ffff_ffff == courier && ends_word(7) {
                Some(Role::Courier)
            } else if head | FOLD == customer && ends_word(8) {
                Some(Role::Customer)
            } else {
                None
            };
        }
        Role::of_first_word(text)
    }

    /// The rule as written: the first whitespace-separated word, case-insensitive (the
    /// in-place test above is checked against it).
    fn of_first_word(text: &str) -> Option<Role> {
        let word = text.split_whitespace().next()?;
        if word.eq_ignore_ascii_case("courier") {
            Some(Role::Courier)
        } else if word.eq_ignore_ascii_case("customer") {
            Some(Role::Customer)
        } else {
            None
        }
    }

    /// The length of the longer of [`Role::as_str`]'s two values.
    pub const LONGEST: usize = "customer".len();

    /// `courier` or `customer`, as written in `first_message_by`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Courier => "courier",
            Role::Customer => "customer",
        }
    }

    /// The other role.
    pub fn other(self) -> Role {
        match self {
            Role::Courier => Role::Customer,
            Role::Customer => Role::Courier,
        }
    }
}

/// A message's position in the total order. Field order is comparison order, so the
/// derived `Ord` is the spec's order. `stage` is a code whose order is the order of the
/// stage strings (see [`crate::dictionary`]); 0 is null. `fromId` is a flag and a value
/// rather than an `Option<i64>`, which takes 16 bytes: the key is 24 bytes, and every
/// per-order state holds two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageKey {
    /// `messageSentTime`, UTC microseconds.
    pub time: i64,
    /// `false` when `chatStartedByMessage` is true, so that it sorts first (null counts as false).
    pub not_started: bool,
    /// The sender's role.
    pub role: Role,
    /// `fromId` is not null (a null sorts first).
    has_from_id: bool,
    /// `fromId`, 0 when null (so that equal keys are equal).
    from_id_value: i64,
    /// `orderStage` code; 0 (null) sorts first.
    pub stage: u32,
}

impl MessageKey {
    /// A placeholder key, never compared: the keys of [`crate::ConversationState::EMPTY`].
    pub const NONE: MessageKey = MessageKey::new(0, true, Role::Courier, None, 0);

    /// The key of a message.
    pub const fn new(
        time: i64,
        not_started: bool,
        role: Role,
        from_id: Option<i64>,
        stage: u32,
    ) -> MessageKey {
        let (has_from_id, from_id_value) = match from_id {
            Some(id) => (true, id),
            None => (false, 0),
        };
        MessageKey {
            time,
            not_started,
            role,
            has_from_id,
            from_id_value,
            stage,
        }
    }

    /// `fromId`.
    pub fn from_id(&self) -> Option<i64> {
        self.has_from_id.then_some(self.from_id_value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_splitting(text: &str) -> Option<Role> {
        Role::of_first_word(text)
    }

    proptest::proptest! {
        #[test]
        fn the_in_place_word_test_is_the_split_rule(
            text in "[ \t\u{a0}\u{3000}]{0,2}(courier|Customer|COURIER|custom|couriers|cOuRiEr|CUSTOMER|customers|k|é)?[ \t\u{a0}\u{2028}\u{b}\u{c}\u{1c}\u{85}x]{0,2}(iOS|Android)?"
        ) {
            proptest::prop_assert_eq!(Role::of_sender_app_type(&text), by_splitting(&text));
        }
    }

    #[test]
    fn sender_app_types_give_roles() {
        assert_eq!(
            Role::of_sender_app_type("Courier Android"),
            Some(Role::Courier)
        );
        assert_eq!(Role::of_sender_app_type("customer"), Some(Role::Customer));
        assert_eq!(
            Role::of_sender_app_type("Customer\u{a0}iOS"),
            Some(Role::Customer)
        );
        assert_eq!(Role::of_sender_app_type("Couriers iOS"), None);
        assert_eq!(
            Role::of_sender_app_type(" Courier iOS"),
            Some(Role::Courier)
        );
        assert_eq!(Role::of_sender_app_type(""), None);
        // Every ASCII and a few Unicode separators after the word, as the split rule has it.
        for sep in (0u8..=0x7f)
            .map(char::from)
            .chain(['\u{85}', '\u{a0}', '\u{2028}', 'é'])
        {
            for word in ["courier", "CUSTOMER", "Courie", "customers"] {
                let text = format!("{word}{sep}iOS");
                assert_eq!(
                    Role::of_sender_app_type(&text),
                    by_splitting(&text),
                    "{text:?}"
                );
            }
        }
    }

    fn key(time: i64, started: bool, role: Role, from_id: Option<i64>, stage: u32) -> MessageKey {
        MessageKey::new(time, !started, role, from_id, stage)
    }

    #[test]
    fn a_key_is_24_bytes_and_a_null_from_id_sorts_first() {
        assert_eq!(std::mem::size_of::<MessageKey>(), 24);
        assert!(
            key(1, false, Role::Courier, None, 0) < key(1, false, Role::Courier, Some(i64::MIN), 0)
        );
        assert_eq!(
            key(1, false, Role::Courier, Some(-4), 0).from_id(),
            Some(-4)
        );
        assert_eq!(key(1, false, Role::Courier, None, 0).from_id(), None);
    }

    #[test]
    fn ties_break_by_started_then_role_then_from_then_stage() {
        let base = key(10, false, Role::Customer, Some(5), 2);
        assert!(
            key(9, false, Role::Customer, Some(9), 9) < base,
            "time first"
        );
        assert!(
            key(10, true, Role::Customer, Some(9), 9) < base,
            "started message first"
        );
        assert!(
            key(10, false, Role::Courier, Some(9), 9) < base,
            "courier before customer"
        );
        assert!(
            key(10, false, Role::Customer, None, 9) < base,
            "null fromId first"
        );
        assert!(
            key(10, false, Role::Customer, Some(5), 1) < base,
            "smaller stage first"
        );
    }

    #[test]
    fn role_is_first_word_case_insensitive() {
        assert_eq!(Role::of_sender_app_type("Courier iOS"), Some(Role::Courier));
        assert_eq!(
            Role::of_sender_app_type("  CUSTOMER android"),
            Some(Role::Customer)
        );
        assert_eq!(Role::of_sender_app_type("customer"), Some(Role::Customer));
        assert_eq!(Role::of_sender_app_type("Couriers iOS"), None);
        assert_eq!(Role::of_sender_app_type("Robot Web"), None);
        assert_eq!(Role::of_sender_app_type(""), None);
    }
}
