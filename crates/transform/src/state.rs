//! Per-order partial state of a conversation. Every output column is a merge of this
//! state (min/max keys, min times, counts), so the sequential, parallel and incremental
//! paths all call the same `update` / `merge` / `finish`.

use crate::key::{MessageKey, Role};

/// What is known of one order's conversation so far. A role's earliest time is known
/// exactly when the role has messages, so it is kept as a plain integer (0 without
/// messages) behind [`ConversationState::first_courier`] and
/// [`ConversationState::first_customer`]: 80 bytes a state, not 112.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationState {
    /// The minimum message key: the first message.
    pub first: MessageKey,
    /// The maximum message key: the last message.
    pub last: MessageKey,
    /// Earliest courier message time (UTC µs) when there are courier messages, else 0.
    earliest_courier: i64,
    /// Earliest customer message time (UTC µs) when there are customer messages, else 0.
    earliest_customer: i64,
    /// Courier messages.
    pub courier_messages: i64,
    /// Customer messages.
    pub customer_messages: i64,
}

/// A finished conversation row, before its city and stage are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversation {
    /// `order_id`.
    pub order_id: i64,
    /// `first_courier_message`.
    pub first_courier_message: Option<i64>,
    /// `first_customer_message`.
    pub first_customer_message: Option<i64>,
    /// `num_messages_courier`.
    pub num_messages_courier: i64,
    /// `num_messages_customer`.
    pub num_messages_customer: i64,
    /// `first_message_by`.
    pub first_message_by: Role,
    /// `conversation_started_at`.
    pub conversation_started_at: i64,
    /// `first_responsetime_delay_seconds`.
    pub first_responsetime_delay_seconds: Option<i64>,
    /// `last_message_time`.
    pub last_message_time: i64,
    /// `last_message_order_stage`, as a stage code (0 = null).
    pub last_stage: u32,
}

const MICROS_PER_SECOND: i64 = 1_000_000;

/// Whole seconds from a conversation's start to the other role's first message. The
/// first message is the minimum, so the other role's first time is never earlier, and
/// integer division truncates toward zero as the spec asks.
pub(crate) fn delay_seconds(started: i64, other_first: i64) -> i64 {
    (other_first - started) / MICROS_PER_SECOND
}

/// The earliest time of a role in two partial states, given their counts of it.
fn earliest(mine: (i64, i64), theirs: (i64, i64)) -> i64 {
    match (mine.0 > 0, theirs.0 > 0) {
        (true, true) => mine.1.min(theirs.1),
        (false, true) => theirs.1,
        _ => mine.1,
    }
}

impl ConversationState {
    /// The state of a conversation with one message.
    pub fn new(key: MessageKey) -> Self {
        let (earliest_courier, earliest_customer, courier_messages, customer_messages) =
            match key.role {
                Role::Courier => (key.time, 0, 1, 0),
                Role::Customer => (0, key.time, 0, 1),
            };
        Self {
            first: key,
            last: key,
            earliest_courier,
            earliest_customer,
            courier_messages,
            customer_messages,
        }
    }

    /// A state from its parts (as stored); `None` when a role's earliest time is present
    /// without messages of the role, or missing with some.
    pub fn from_parts(
        first: MessageKey,
        last: MessageKey,
        first_courier: Option<i64>,
        first_customer: Option<i64>,
        courier_messages: i64,
        customer_messages: i64,
    ) -> Option<Self> {
        if first_courier.is_some() != (courier_messages > 0)
            || first_customer.is_some() != (customer_messages > 0)
        {
            return None;
        }
        Some(Self {
            first,
            last,
            earliest_courier: first_courier.unwrap_or(0),
            earliest_customer: first_customer.unwrap_or(0),
            courier_messages,
            customer_messages,
        })
    }

    /// Earliest courier message time (UTC µs), if any.
    pub fn first_courier(&self) -> Option<i64> {
        (self.courier_messages > 0).then_some(self.earliest_courier)
    }

    /// Earliest customer message time (UTC µs), if any.
    pub fn first_customer(&self) -> Option<i64> {
        (self.customer_messages > 0).then_some(self.earliest_customer)
    }

    /// A state that has seen no message: a placeholder in dense per-order storage,
    /// which [`ConversationState::absorb`] replaces on the first message.
    pub const EMPTY: ConversationState = ConversationState {
        first: MessageKey::NONE,
        last: MessageKey::NONE,
        earliest_courier: 0,
        earliest_customer: 0,
        courier_messages: 0,
        customer_messages: 0,
    };

    /// True for a state that has seen no message.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.courier_messages == 0 && self.customer_messages == 0
    }

    /// Folds one more message into a state that may be [`ConversationState::EMPTY`].
    #[inline]
    pub fn absorb(&mut self, key: MessageKey) {
        if self.is_empty() {
            *self = Self::new(key);
        } else {
            self.update(key);
        }
    }

    /// Folds one more message in.
    #[inline]
    pub fn update(&mut self, key: MessageKey) {
        if key < self.first {
            self.first = key;
        }
        if key > self.last {
            self.last = key;
        }
        match key.role {
            Role::Courier => {
                self.earliest_courier = earliest(
                    (self.courier_messages, self.earliest_courier),
                    (1, key.time),
                );
                self.courier_messages += 1;
            }
            Role::Customer => {
                self.earliest_customer = earliest(
                    (self.customer_messages, self.earliest_customer),
                    (1, key.time),
                );
                self.customer_messages += 1;
            }
        }
    }

    /// Folds another partial state of the same order in (order of merging is irrelevant).
    pub fn merge(&mut self, other: &ConversationState) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.earliest_courier = earliest(
            (self.courier_messages, self.earliest_courier),
            (other.courier_messages, other.earliest_courier),
        );
        self.earliest_customer = earliest(
            (self.customer_messages, self.earliest_customer),
            (other.customer_messages, other.earliest_customer),
        );
        self.courier_messages += other.courier_messages;
        self.customer_messages += other.customer_messages;
    }

    /// The output row of this state.
    pub fn finish(&self, order_id: i64) -> Conversation {
        let started = self.first.time;
        let other_first = match self.first.role {
            Role::Courier => self.first_customer(),
            Role::Customer => self.first_courier(),
        };
        let delay = other_first.map(|t| delay_seconds(started, t));
        Conversation {
            order_id,
            first_courier_message: self.first_courier(),
            first_customer_message: self.first_customer(),
            num_messages_courier: self.courier_messages,
            num_messages_customer: self.customer_messages,
            first_message_by: self.first.role,
            conversation_started_at: started,
            first_responsetime_delay_seconds: delay,
            last_message_time: self.last.time,
            last_stage: self.last.stage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(time: i64, role: Role, stage: u32) -> MessageKey {
        MessageKey::new(time, true, role, Some(1), stage)
    }

    #[test]
    fn delay_truncates_toward_zero_and_is_null_for_one_role() {
        let mut s = ConversationState::new(key(0, Role::Customer, 1));
        s.update(key(2_900_000, Role::Courier, 2));
        s.update(key(5_000_000, Role::Courier, 3));
        let row = s.finish(7);
        assert_eq!(row.first_message_by, Role::Customer);
        assert_eq!(row.first_responsetime_delay_seconds, Some(2));
        assert_eq!(row.num_messages_courier, 2);
        assert_eq!(row.last_stage, 3);
        assert_eq!(std::mem::size_of::<ConversationState>(), 80);
        let alone = ConversationState::new(key(0, Role::Courier, 1)).finish(8);
        assert_eq!(alone.first_responsetime_delay_seconds, None);
        assert_eq!(alone.first_customer_message, None);
    }

    fn arb_key() -> impl Strategy<Value = MessageKey> {
        (
            0i64..20,
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(0i64..3),
            0u32..4,
        )
            .prop_map(|(time, started, courier, from_id, stage)| {
                let role = if courier {
                    Role::Courier
                } else {
                    Role::Customer
                };
                MessageKey::new(time, !started, role, from_id, stage)
            })
    }

    proptest! {
        #[test]
        fn merging_any_split_equals_folding_all(keys in proptest::collection::vec(arb_key(), 1..40), split in 0usize..40) {
            let fold = |ks: &[MessageKey]| {
                let mut s = ConversationState::new(ks[0]);
                ks[1..].iter().for_each(|k| s.update(*k));
                s
            };
            let all = fold(&keys);
            let split = split % keys.len();
            if split > 0 {
                let mut left = fold(&keys[..split]);
                left.merge(&fold(&keys[split..]));
                prop_assert_eq!(left, all);
            }
            let mut reversed = keys.clone();
            reversed.reverse();
            prop_assert_eq!(fold(&reversed), all);
        }
    }
}
