//! The windows in which a new submission repeats an earlier one: the same tenant's contact
//! within 30 days (a *duplicate*, stored and linked to the original) and the same key's
//! byte-identical body within 10 minutes (a *double submit*, answered like the first and not
//! stored again).
//!
//! The store keeps these windows in memory — rebuilt from the database at start — so that
//! storing a lead does not have to maintain three randomly keyed indexes (e-mail, phone,
//! body hash). Those indexes dirtied a random page each per lead, and writing those pages
//! was most of what capped durable ingest.
//!
//! Contacts are kept as salted digests ([`ContactKey`]), which the caller computes before
//! it takes the windows' lock: the one writer thread that looks them up and records them
//! then hashes, copies and frees no strings (that was ~12 % of the writer at full ingest).
//!
//! Changes are recorded as they happen and can be undone: the writer stages a job's entries
//! while the job runs (so a later job in the same group commit sees them), then keeps them
//! or takes them back with [`RecentLeads::job_done`] and [`RecentLeads::batch_done`]
//! depending on whether the job and the commit succeeded. An entry therefore never outlives
//! a lead that was rolled back, and a double submit is never answered with an id that was
//! not stored.

use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};
use smallvec::SmallVec;
use uuid::Uuid;

use crate::chunked::ChunkedQueue;
use crate::sharded::{DigestState, ShardedMap};

/// Same tenant and e-mail or phone within this window: a duplicate of the earlier lead.
pub const DUPLICATE_WINDOW: TimeDelta = TimeDelta::days(30);
/// A byte-identical body from the same key within this window is a double submit.
pub const DOUBLE_SUBMIT_WINDOW: TimeDelta = TimeDelta::minutes(10);
/// A retry with the same `Idempotency-Key` within this window gets the first answer; the
/// record is pruned after it. It covers the longest retry schedule of a client Echo5 ships:
/// the WordPress plugin retries a submission for 7 days (`Echo5_Leads_Sender::GIVE_UP_AFTER`),
/// and a retry whose first answer was lost must still find its record on the last day. The
/// extra day is slack for a site's clock and WP-Cron running late.
pub const IDEMPOTENCY_WINDOW: TimeDelta = TimeDelta::days(8);

/// What an earlier submission was answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub lead: Uuid,
    pub spam: bool,
    pub duplicate: bool,
}

/// One tenant's e-mail address or phone number, as the first 16 bytes of a SHA-256 salted
/// per process. Two contacts share a key only by a 2^-128 chance (the double-submit window
/// trusts the body's digest the same way); the salt keeps anyone from choosing values whose
/// keys crowd one hash bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactKey([u8; 16]);

/// Already a salted digest: its first eight bytes are as good a hash as any (see
/// [`DigestState`]).
impl std::hash::Hash for ContactKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(first));
    }
}

/// A lead's contact keys, e-mail first: an e-mail match wins over a phone match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Contacts([Option<ContactKey>; 2]);

impl Contacts {
    fn iter(&self) -> impl Iterator<Item = ContactKey> + '_ {
        self.0.iter().flatten().copied()
    }
}

/// Computes [`ContactKey`]s; every copy of one hasher gives the same keys.
#[derive(Debug, Clone, Copy)]
pub struct ContactHasher {
    salt: [u8; 16],
}

impl ContactHasher {
    /// A hasher with a random salt.
    pub fn random() -> ContactHasher {
        let mut salt = [0u8; 16];
        // Without an entropy source the salt stays fixed: keys still never mix tenants or
        // kinds; only the bucket-crowding defence is lost, and that is better than no dedup.
        let _ = getrandom::fill(&mut salt);
        ContactHasher { salt }
    }

    fn key(&self, tenant: Uuid, kind: u8, value: &str) -> ContactKey {
        let digest = Sha256::new()
            .chain_update(self.salt)
            .chain_update(tenant.as_bytes())
            .chain_update([kind])
            .chain_update(value.as_bytes())
            .finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        ContactKey(key)
    }

    /// The keys of a tenant's e-mail and phone; empty values have none.
    pub fn contacts(&self, tenant: Uuid, email: Option<&str>, phone: Option<&str>) -> Contacts {
        let email = email
            .filter(|e| !e.is_empty())
            .map(|e| self.key(tenant, b'e', e));
        let phone = phone
            .filter(|p| !p.is_empty())
            .map(|p| self.key(tenant, b'p', p));
        Contacts([email, phone])
    }
}

type SubmitKey = (Uuid, [u8; 16]);
/// The originals of one contact, oldest first.
type Originals = SmallVec<[(DateTime<Utc>, Uuid); 1]>;

#[derive(Debug)]
enum Change {
    Original(ContactKey, Uuid),
    Submit(SubmitKey, Uuid),
    /// An original taken out (its lead erased): undone by putting it back.
    ForgotOriginal(ContactKey, DateTime<Utc>, Uuid),
    /// A submission's answer taken out (its lead erased).
    ForgotSubmit(SubmitKey, DateTime<Utc>, Answer),
}

/// Lookups go through sharded hash maps (see [`crate::sharded`] for why not one map, nor a
/// B-tree); expiry pops the oldest entries off time-ordered queues instead of sweeping
/// everything.
#[derive(Debug)]
pub struct RecentLeads {
    hasher: ContactHasher,
    /// Original leads (neither spam nor duplicates) per tenant contact, oldest first. Almost
    /// always one: a second original of a contact within the window would be a duplicate.
    originals: ShardedMap<ContactKey, Originals, DigestState>,
    /// The same entries in the order they were recorded, for expiry. That is the order of
    /// time except for backdated leads, which are then dropped a little late; lookups check
    /// the time anyway. An entry whose lead was taken back stays until it expires.
    originals_by_time: ChunkedQueue<(DateTime<Utc>, ContactKey, Uuid)>,
    /// The first answer per key and body hash.
    submits: ShardedMap<SubmitKey, (DateTime<Utc>, Answer)>,
    /// Submissions in the order they were recorded (the order of time, for ingest).
    submits_by_time: ChunkedQueue<(DateTime<Utc>, SubmitKey, Uuid)>,
    /// Changes of the running job, then of the running group commit: what an undo removes.
    job: Vec<Change>,
    batch: Vec<Change>,
}

impl Default for RecentLeads {
    fn default() -> Self {
        RecentLeads::new(ContactHasher::random())
    }
}

impl RecentLeads {
    pub fn new(hasher: ContactHasher) -> RecentLeads {
        RecentLeads {
            hasher,
            originals: ShardedMap::default(),
            originals_by_time: ChunkedQueue::default(),
            submits: ShardedMap::default(),
            submits_by_time: ChunkedQueue::default(),
            job: Vec::new(),
            batch: Vec::new(),
        }
    }

    /// The hasher whose keys these windows hold: compute [`Contacts`] with it before taking
    /// the windows' lock.
    pub fn hasher(&self) -> ContactHasher {
        self.hasher
    }

    /// The lead that a lead of `tenant` with these contacts, arriving at `at`, duplicates:
    /// the earliest original with the same e-mail within the window, else the earliest with
    /// the same phone.
    pub fn original_of(
        &self,
        tenant: Uuid,
        email: Option<&str>,
        phone: Option<&str>,
        at: DateTime<Utc>,
    ) -> Option<Uuid> {
        self.original_of_contacts(&self.hasher.contacts(tenant, email, phone), at)
    }

    /// [`original_of`](Self::original_of) with the keys computed already.
    pub fn original_of_contacts(&self, contacts: &Contacts, at: DateTime<Utc>) -> Option<Uuid> {
        let since = at - DUPLICATE_WINDOW;
        contacts.iter().find_map(|c| {
            self.originals
                .get(&c)?
                .iter()
                .find(|(t, _)| *t >= since)
                .map(|(_, id)| *id)
        })
    }

    /// Records an original lead (neither spam nor a duplicate) created at `created_at`.
    /// Leads already outside the window at `now` can never be matched and are not kept.
    pub fn add_original(
        &mut self,
        tenant: Uuid,
        email: Option<&str>,
        phone: Option<&str>,
        created_at: DateTime<Utc>,
        id: Uuid,
        now: DateTime<Utc>,
    ) {
        let contacts = self.hasher.contacts(tenant, email, phone);
        self.add_original_contacts(&contacts, created_at, id, now);
    }

    /// [`add_original`](Self::add_original) with the keys computed already.
    pub fn add_original_contacts(
        &mut self,
        contacts: &Contacts,
        created_at: DateTime<Utc>,
        id: Uuid,
        now: DateTime<Utc>,
    ) {
        if created_at < now - DUPLICATE_WINDOW {
            return;
        }
        for c in contacts.iter() {
            let list = self.originals.get_or_default(c);
            let at = list.partition_point(|(t, _)| *t <= created_at);
            list.insert(at, (created_at, id));
            self.originals_by_time.push_back((created_at, c, id));
            self.job.push(Change::Original(c, id));
        }
    }

    /// Records a stored lead if it is an original (neither spam nor a duplicate): the lead
    /// later submissions with its e-mail or phone duplicate. `contacts` are the lead's own.
    pub fn add_lead(&mut self, lead: &crate::leads::Lead, contacts: &Contacts, now: DateTime<Utc>) {
        if !lead.is_spam && lead.duplicate_of.is_none() {
            self.add_original_contacts(contacts, lead.created_at, lead.id, now);
        }
    }

    /// The first answer given to this body from this key within the window before `at`.
    pub fn double_submit_of(&self, key: Uuid, hash: [u8; 16], at: DateTime<Utc>) -> Option<Answer> {
        let since = at - DOUBLE_SUBMIT_WINDOW;
        self.submits
            .get(&(key, hash))
            .filter(|(t, _)| *t > since)
            .map(|(_, a)| *a)
    }

    /// Records the answer to a stored submission. An answer still inside its window is
    /// kept: the first one is what repeats get.
    pub fn add_submit(&mut self, key: Uuid, hash: [u8; 16], at: DateTime<Utc>, answer: Answer) {
        let since = at - DOUBLE_SUBMIT_WINDOW;
        // One lookup: the writer does this for every stored lead.
        if !self
            .submits
            .insert_unless((key, hash), (at, answer), |(t, _)| *t > since)
        {
            return;
        }
        self.submits_by_time
            .push_back((at, (key, hash), answer.lead));
        self.job.push(Change::Submit((key, hash), answer.lead));
    }

    /// Forgets an erased lead: later submissions with its contacts are no longer its
    /// duplicates, and its body from `submit` (the key it came with and its digest) is no
    /// longer answered with its id. Undone like any change if the erasure rolls back.
    pub fn forget_lead(&mut self, id: Uuid, contacts: &Contacts, submit: Option<(Uuid, [u8; 16])>) {
        for c in contacts.iter() {
            let Some(list) = self.originals.get_mut(&c) else {
                continue;
            };
            let Some(i) = list.iter().position(|(_, l)| *l == id) else {
                continue;
            };
            let (at, _) = list.remove(i);
            if list.is_empty() {
                self.originals.remove(&c);
            }
            self.job.push(Change::ForgotOriginal(c, at, id));
        }
        if let Some(k) = submit
            && let Some(&(at, answer)) = self.submits.get(&k).filter(|(_, a)| a.lead == id)
        {
            self.submits.remove(&k);
            self.job.push(Change::ForgotSubmit(k, at, answer));
        }
    }

    /// The running job ended: keep its changes with the batch, or take them back.
    pub fn job_done(&mut self, ok: bool) {
        if ok {
            self.batch.append(&mut self.job);
        } else {
            let job = std::mem::take(&mut self.job);
            self.undo(job);
        }
    }

    /// The group commit ended: its changes are now durable, or were rolled back with it.
    pub fn batch_done(&mut self, ok: bool) {
        // A job that never reported (the writer stopped mid-batch) counts with the batch.
        self.job_done(ok);
        if ok {
            self.batch.clear();
        } else {
            let batch = std::mem::take(&mut self.batch);
            self.undo(batch);
        }
    }

    fn undo(&mut self, changes: Vec<Change>) {
        for change in changes.into_iter().rev() {
            match change {
                Change::Original(c, id) => self.remove_original(c, id),
                Change::Submit(k, id) => {
                    if self.submits.get(&k).is_some_and(|(_, a)| a.lead == id) {
                        self.submits.remove(&k);
                    }
                }
                Change::ForgotOriginal(c, at, id) => {
                    let list = self.originals.get_or_default(c);
                    let i = list.partition_point(|(t, _)| *t <= at);
                    list.insert(i, (at, id));
                }
                Change::ForgotSubmit(k, at, answer) => {
                    self.submits.insert_unless(k, (at, answer), |_| false);
                }
            }
        }
    }

    fn remove_original(&mut self, c: ContactKey, id: Uuid) {
        if let Some(list) = self.originals.get_mut(&c) {
            if let Some(i) = list.iter().position(|(_, l)| *l == id) {
                list.remove(i);
            }
            if list.is_empty() {
                self.originals.remove(&c);
            }
        }
    }

    /// Drops the entries no lead arriving from `now` on can match, oldest first: each call
    /// costs what expired since the last one.
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let dup_since = now - DUPLICATE_WINDOW;
        while let Some(&(t, c, id)) = self.originals_by_time.front() {
            if t >= dup_since {
                break;
            }
            self.originals_by_time.pop_front();
            self.remove_original(c, id);
        }
        let submit_since = now - DOUBLE_SUBMIT_WINDOW;
        while let Some(&(t, key, lead)) = self.submits_by_time.front() {
            if t > submit_since {
                break;
            }
            self.submits_by_time.pop_front();
            // A later submission may have taken the slot over after this one expired.
            if self.submits.get(&key).is_some_and(|(_, a)| a.lead == lead) {
                self.submits.remove(&key);
            }
        }
    }

    /// (contacts, submits) held: for logs and tests.
    pub fn len(&self) -> (usize, usize) {
        (self.originals.len(), self.submits.len())
    }

    pub fn is_empty(&self) -> bool {
        self.originals.is_empty() && self.submits.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap() + TimeDelta::minutes(minutes)
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    const A: Uuid = Uuid::from_u128(0xA);
    const B: Uuid = Uuid::from_u128(0xB);
    const DAY: i64 = 24 * 60;

    #[test]
    fn contact_keys_spread_over_the_hash_space() {
        // The maps of originals hash a key by its digest bytes; a hash that ignores them
        // would still find every original, but each lookup would walk one long chain.
        use std::hash::BuildHasher;
        let h = ContactHasher::random();
        let hashes: std::collections::HashSet<u64> = (0..1000)
            .map(|i| {
                let c = h.contacts(A, Some(&format!("p{i}@example.com")), None);
                let k = c.iter().next().unwrap();
                DigestState::default().hash_one(k)
            })
            .collect();
        assert_eq!(hashes.len(), 1000);
    }

    #[test]
    fn only_a_clean_original_lead_is_remembered() {
        let mut r = RecentLeads::default();
        let h = r.hasher();
        let lead = |n: u128, email: &str| {
            let mut l = crate::leads::Lead::blank(id(n), A, id(99), t(0));
            l.email = Some(email.into());
            l
        };
        let mut spam = lead(1, "spam@x.com");
        spam.is_spam = true;
        let mut dup = lead(2, "dup@x.com");
        dup.duplicate_of = Some(id(7));
        let clean = lead(3, "clean@x.com");
        for l in [&spam, &dup, &clean] {
            r.add_lead(l, &h.contacts(A, l.email.as_deref(), None), t(0));
        }
        committed(&mut r);
        assert_eq!(r.original_of(A, Some("spam@x.com"), None, t(1)), None);
        assert_eq!(r.original_of(A, Some("dup@x.com"), None, t(1)), None);
        assert_eq!(
            r.original_of(A, Some("clean@x.com"), None, t(1)),
            Some(id(3))
        );
    }

    #[test]
    fn an_original_exactly_at_the_window_edge_is_still_remembered() {
        let mut r = RecentLeads::default();
        assert!(r.is_empty());
        let now = t(30 * DAY);
        r.add_original(A, Some("edge@x.com"), None, t(0), id(1), now);
        r.add_original(A, Some("old@x.com"), None, t(-1), id(2), now);
        committed(&mut r);
        assert_eq!(r.len(), (1, 0), "only the one inside the window");
        assert!(!r.is_empty());
        assert_eq!(r.original_of(A, Some("edge@x.com"), None, now), Some(id(1)));
    }

    #[test]
    fn a_submit_exactly_one_window_old_is_replaced_by_the_next() {
        let mut r = RecentLeads::default();
        let answer = |n| Answer {
            lead: id(n),
            spam: false,
            duplicate: false,
        };
        let (key, hash) = (id(50), [9u8; 16]);
        r.add_submit(key, hash, t(0), answer(1));
        committed(&mut r);
        assert_eq!(r.len(), (0, 1));
        assert!(!r.is_empty(), "submits alone make it non-empty");
        // Ten minutes on, the first submit is out of its window: the next one is kept.
        r.add_submit(key, hash, t(10), answer(2));
        committed(&mut r);
        assert_eq!(
            r.double_submit_of(key, hash, t(10) + TimeDelta::seconds(1)),
            Some(answer(2))
        );
    }

    fn committed(r: &mut RecentLeads) {
        r.job_done(true);
        r.batch_done(true);
    }

    #[test]
    fn email_first_then_phone_within_the_tenant_and_window() {
        let mut r = RecentLeads::default();
        r.add_original(A, Some("jane@x.com"), Some("+15550001"), t(0), id(1), t(0));
        r.add_original(A, None, Some("+15550002"), t(1), id(2), t(1));
        committed(&mut r);
        assert_eq!(
            r.original_of(A, Some("jane@x.com"), None, t(5)),
            Some(id(1))
        );
        assert_eq!(r.original_of(A, None, Some("+15550001"), t(5)), Some(id(1)));
        // E-mail wins over phone when both match different originals.
        assert_eq!(
            r.original_of(A, Some("jane@x.com"), Some("+15550002"), t(5)),
            Some(id(1))
        );
        assert_eq!(
            r.original_of(A, Some("bob@x.com"), Some("+15550002"), t(5)),
            Some(id(2))
        );
        // Another tenant never matches; nor does a contact that is empty.
        assert_eq!(r.original_of(B, Some("jane@x.com"), None, t(5)), None);
        assert_eq!(r.original_of(A, Some(""), Some(""), t(5)), None);
        // Exactly 30 days later still matches; a minute more does not.
        assert_eq!(
            r.original_of(A, Some("jane@x.com"), None, t(30 * DAY)),
            Some(id(1))
        );
        assert_eq!(
            r.original_of(A, Some("jane@x.com"), None, t(30 * DAY + 1)),
            None
        );
    }

    #[test]
    fn contact_keys_are_per_tenant_and_kind_and_salted() {
        let h = ContactHasher::random();
        let k = |t, e: Option<&str>, p: Option<&str>| h.contacts(t, e, p);
        // The same value and tenant: the same key, from any copy of the hasher.
        let copy = h;
        assert_eq!(
            k(A, Some("a@x.com"), None),
            copy.contacts(A, Some("a@x.com"), None)
        );
        // Another tenant, or the same text as the other kind, is another key.
        assert_ne!(k(A, Some("a@x.com"), None), k(B, Some("a@x.com"), None));
        assert_ne!(k(A, Some("5550001"), None), k(A, None, Some("5550001")));
        // Empty values have no key at all.
        assert_eq!(k(A, Some(""), Some("")), Contacts::default());
        // Another hasher (another process) salts differently.
        assert_ne!(
            k(A, Some("a@x.com"), None),
            ContactHasher::random().contacts(A, Some("a@x.com"), None)
        );
        // A phone-only lead is found by the keys computed for the windows' own hasher.
        let mut r = RecentLeads::new(h);
        r.add_original_contacts(&k(A, None, Some("5550001")), t(0), id(1), t(0));
        committed(&mut r);
        let asked = r.hasher().contacts(A, Some("new@x.com"), Some("5550001"));
        assert_eq!(r.original_of_contacts(&asked, t(1)), Some(id(1)));
    }

    #[test]
    fn a_backdated_original_expires_late_but_never_matches_late() {
        let mut r = RecentLeads::default();
        r.add_original(A, Some("new@x.com"), None, t(10 * DAY), id(2), t(10 * DAY));
        r.add_original(A, Some("old@x.com"), None, t(5 * DAY), id(1), t(10 * DAY));
        committed(&mut r);
        r.prune(t(36 * DAY));
        // Recorded after a newer entry, it waits behind it for expiry...
        assert_eq!(r.len().0, 2);
        // ...but the window is checked on every lookup.
        assert_eq!(r.original_of(A, Some("old@x.com"), None, t(36 * DAY)), None);
        r.prune(t(41 * DAY));
        assert!(r.is_empty());
    }

    #[test]
    fn the_earliest_original_still_in_the_window_is_the_one() {
        let mut r = RecentLeads::default();
        r.add_original(A, Some("jane@x.com"), None, t(10 * DAY), id(2), t(10 * DAY));
        // A backdated import, older than the first one but still in the window.
        r.add_original(A, Some("jane@x.com"), None, t(5 * DAY), id(1), t(10 * DAY));
        committed(&mut r);
        assert_eq!(
            r.original_of(A, Some("jane@x.com"), None, t(11 * DAY)),
            Some(id(1))
        );
        // Once the import falls out of the window, the later original takes over.
        assert_eq!(
            r.original_of(A, Some("jane@x.com"), None, t(36 * DAY)),
            Some(id(2))
        );
        // Something already out of the window is not kept at all.
        r.add_original(A, Some("old@x.com"), None, t(0), id(3), t(31 * DAY));
        assert_eq!(r.len().0, 1);
    }

    #[test]
    fn double_submit_answers_the_first_within_ten_minutes() {
        let mut r = RecentLeads::default();
        let first = Answer {
            lead: id(1),
            spam: false,
            duplicate: false,
        };
        let second = Answer {
            lead: id(2),
            spam: true,
            duplicate: false,
        };
        r.add_submit(A, [1; 16], t(0), first);
        r.add_submit(A, [1; 16], t(1), second);
        committed(&mut r);
        assert_eq!(r.double_submit_of(A, [1; 16], t(9)), Some(first));
        assert_eq!(r.double_submit_of(A, [2; 16], t(9)), None);
        assert_eq!(r.double_submit_of(B, [1; 16], t(9)), None);
        assert_eq!(r.double_submit_of(A, [1; 16], t(10)), None);
        // After the window a new body with the same hash starts a new window.
        r.add_submit(A, [1; 16], t(11), second);
        committed(&mut r);
        assert_eq!(r.double_submit_of(A, [1; 16], t(12)), Some(second));
    }

    #[test]
    fn failed_jobs_and_failed_commits_take_their_entries_back() {
        let mut r = RecentLeads::default();
        let a = Answer {
            lead: id(1),
            spam: false,
            duplicate: false,
        };
        r.add_original(A, Some("kept@x.com"), None, t(0), id(1), t(0));
        r.add_submit(A, [1; 16], t(0), a);
        r.job_done(true);
        // Visible to the next job of the same batch before the commit...
        assert_eq!(
            r.original_of(A, Some("kept@x.com"), None, t(0)),
            Some(id(1))
        );
        r.add_original(A, Some("failed@x.com"), None, t(0), id(2), t(0));
        r.job_done(false);
        assert_eq!(r.original_of(A, Some("failed@x.com"), None, t(0)), None);
        r.batch_done(true);
        assert_eq!(
            r.original_of(A, Some("kept@x.com"), None, t(1)),
            Some(id(1))
        );

        // A whole batch whose commit failed leaves nothing behind.
        r.add_original(A, Some("lost@x.com"), Some("+1555"), t(2), id(3), t(2));
        r.add_submit(A, [3; 16], t(2), Answer { lead: id(3), ..a });
        r.job_done(true);
        r.batch_done(false);
        assert_eq!(
            r.original_of(A, Some("lost@x.com"), Some("+1555"), t(3)),
            None
        );
        assert_eq!(r.double_submit_of(A, [3; 16], t(3)), None);
        // ...while what the earlier batch committed stays.
        assert_eq!(r.double_submit_of(A, [1; 16], t(3)), Some(a));
        assert_eq!(r.len(), (1, 1));
    }

    #[test]
    fn prune_drops_only_what_can_no_longer_match() {
        let mut r = RecentLeads::default();
        r.add_original(A, Some("old@x.com"), None, t(0), id(1), t(0));
        r.add_original(A, Some("new@x.com"), None, t(20 * DAY), id(2), t(20 * DAY));
        r.add_submit(
            A,
            [1; 16],
            t(31 * DAY - 9),
            Answer {
                lead: id(2),
                spam: false,
                duplicate: false,
            },
        );
        committed(&mut r);
        r.prune(t(31 * DAY));
        assert_eq!(r.len(), (1, 1));
        assert_eq!(
            r.original_of(A, Some("new@x.com"), None, t(31 * DAY)),
            Some(id(2))
        );
        // The double submit window is shorter: the next sweep takes the body hash.
        r.prune(t(31 * DAY + 2));
        assert_eq!(r.len(), (1, 0));
    }

    #[test]
    fn expiry_of_an_old_submission_spares_the_one_that_took_its_place() {
        let mut r = RecentLeads::default();
        let answer = |n| Answer {
            lead: id(n),
            spam: false,
            duplicate: false,
        };
        r.add_submit(A, [1; 16], t(0), answer(1));
        r.add_submit(A, [1; 16], t(11), answer(2));
        r.add_submit(A, [2; 16], t(12), answer(3));
        committed(&mut r);
        // The first entry's expiry comes due, but the slot now holds the second answer.
        r.prune(t(12));
        assert_eq!(r.double_submit_of(A, [1; 16], t(12)), Some(answer(2)));
        assert_eq!(r.len(), (0, 2));
        r.prune(t(21));
        assert_eq!(r.len(), (0, 1));
        r.prune(t(22));
        assert!(r.is_empty());
    }

    #[test]
    fn an_erased_lead_is_forgotten_unless_the_erasure_rolls_back() {
        let key = id(500);
        let hash = [7u8; 16];
        let answer = Answer {
            lead: id(1),
            spam: false,
            duplicate: false,
        };
        let setup = || {
            let mut r = RecentLeads::default();
            r.add_original(A, Some("jane@x.com"), Some("+15550100"), t(0), id(1), t(0));
            r.add_original(A, Some("jane@x.com"), None, t(1), id(2), t(1));
            r.add_submit(key, hash, t(0), answer);
            committed(&mut r);
            r
        };
        let contacts = |r: &RecentLeads| {
            r.hasher()
                .contacts(A, Some("jane@x.com"), Some("+15550100"))
        };
        // Erased and committed: its contacts now find the next original, its body nothing.
        let mut r = setup();
        let c = contacts(&r);
        r.forget_lead(id(1), &c, Some((key, hash)));
        committed(&mut r);
        assert_eq!(
            r.original_of(A, Some("jane@x.com"), None, t(2)),
            Some(id(2))
        );
        assert_eq!(r.original_of(A, None, Some("+15550100"), t(2)), None);
        assert_eq!(r.double_submit_of(key, hash, t(2)), None);
        // Rolled back: everything as it was.
        let mut r = setup();
        let c = contacts(&r);
        r.forget_lead(id(1), &c, Some((key, hash)));
        r.batch_done(false);
        assert_eq!(
            r.original_of(A, Some("jane@x.com"), None, t(2)),
            Some(id(1))
        );
        assert_eq!(r.original_of(A, None, Some("+15550100"), t(2)), Some(id(1)));
        assert_eq!(r.double_submit_of(key, hash, t(2)), Some(answer));
    }
}
