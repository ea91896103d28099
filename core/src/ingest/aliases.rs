//! Field names seen in the wild, as data. Names are in [`super::shape::loose`] form (lower
//! case, letters and digits only, CF7's `your-` already removed), so one entry covers
//! `E-mail`, `e_mail` and `your-email`. Within a list, earlier names win when a form sends
//! several of them.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A lead field a payload value can land in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Target {
    Name,
    FirstName,
    LastName,
    Email,
    Phone,
    Message,
    Company,
    FormName,
    PageUrl,
    Referrer,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmTerm,
    UtmContent,
    Gclid,
    Fbclid,
    Ip,
    UserAgent,
}

impl Target {
    /// Whether a mapped value also stays in `custom`: the address and browser are evidence
    /// about the submission (abuse reports, spam review) and are kept where they were found.
    pub(crate) fn kept_in_custom(self) -> bool {
        matches!(self, Target::Ip | Target::UserAgent)
    }
}

/// Top-level (and generic nested) field names.
pub(crate) const FIELD_ALIASES: &[(Target, &[&str])] = &[
    (
        Target::Name,
        &["name", "fullname", "contactname", "yourfullname", "names"],
    ),
    (
        Target::FirstName,
        &["firstname", "fname", "first", "givenname", "forename"],
    ),
    (
        Target::LastName,
        &["lastname", "lname", "last", "surname", "familyname"],
    ),
    (
        Target::Email,
        &["email", "emailaddress", "mail", "youremail"],
    ),
    (
        Target::Phone,
        &[
            "phone",
            "tel",
            "telephone",
            "phonenumber",
            "mobile",
            "mobilephone",
            "mobilenumber",
            "cell",
            "cellphone",
            "telnumber",
        ],
    ),
    (
        Target::Message,
        &[
            "message",
            "comments",
            "comment",
            "enquiry",
            "inquiry",
            "notes",
            "details",
            "msg",
            "question",
            "questions",
        ],
    ),
    (
        Target::Company,
        &[
            "company",
            "companyname",
            "organization",
            "organisation",
            "business",
            "businessname",
        ],
    ),
    (Target::FormName, &["formname", "formtitle"]),
    (
        Target::PageUrl,
        &[
            "pageurl",
            "sourceurl",
            "url",
            "pagelink",
            "currentpage",
            "currenturl",
        ],
    ),
    (
        Target::Referrer,
        &["referrer", "referer", "httpreferer", "httpreferrer"],
    ),
    (Target::UtmSource, &["utmsource"]),
    (Target::UtmMedium, &["utmmedium"]),
    (Target::UtmCampaign, &["utmcampaign"]),
    (Target::UtmTerm, &["utmterm"]),
    (Target::UtmContent, &["utmcontent"]),
    (Target::Gclid, &["gclid"]),
    (Target::Fbclid, &["fbclid"]),
    (
        Target::Ip,
        &["ip", "ipaddress", "remoteip", "userip", "clientip"],
    ),
    (Target::UserAgent, &["useragent", "httpuseragent"]),
];

/// Extra names inside metadata objects (Fluent's `__submission`, Elementor's `meta`), where a
/// name that would be ambiguous on its own is known to mean the browser.
pub(crate) const META_ALIASES: &[(Target, &[&str])] = &[(Target::UserAgent, &["browser"])];

/// Elementor's advanced `fields[<id>][type]` values that identify a lead field by themselves.
pub(crate) const ELEMENTOR_TYPES: &[(Target, &str)] = &[
    (Target::Email, "email"),
    (Target::Phone, "tel"),
    (Target::Message, "textarea"),
];

/// Top-level objects whose entries are metadata rather than form fields.
pub(crate) const META_CONTAINERS: &[&str] = &["submission", "meta"];

/// Top-level names that carry the API key (`?api_key=` on a GET); never stored as lead data.
pub(crate) const CREDENTIAL_FIELDS: &[&str] = &["apikey", "key"];

/// Gravity Forms name sub-inputs: `.3` first, `.6` last; a group with only these sub-ids
/// (prefix `.2`, middle `.4`, suffix `.8`) is a name. Address groups (`.1` street … `.6`
/// country) use the same numbers, so any other sub-id marks the group as not a name.
pub(crate) const GRAVITY_NAME_SUBS: &[u32] = &[2, 3, 4, 6, 8];
pub(crate) const GRAVITY_FIRST: u32 = 3;
pub(crate) const GRAVITY_LAST: u32 = 6;

/// Loose names that mean an e-mail or phone when the value has that shape too (Elementor
/// labels such as `Work Email`, `Mobile Phone`).
pub(crate) const EMAIL_HINTS: &[&str] = &["email", "mail"];
pub(crate) const PHONE_HINTS: &[&str] = &["phone", "mobile", "tel", "cell"];

/// A table as a hash index, built once: ingest looks up every field name of every
/// submission, and scanning the lists was ~6 % of normalising a typical form.
pub(crate) struct AliasIndex(HashMap<&'static str, (Target, u32)>);

impl AliasIndex {
    fn new(table: &'static [(Target, &'static [&'static str])]) -> AliasIndex {
        let mut index = HashMap::new();
        for (t, names) in table {
            for (i, n) in names.iter().enumerate() {
                if let Ok(i) = u32::try_from(i) {
                    // The first occurrence wins, as in `lookup`.
                    index.entry(*n).or_insert((*t, i));
                }
            }
        }
        AliasIndex(index)
    }

    /// Same answer as [`lookup`] on the table it was built from.
    pub(crate) fn get(&self, loose: &str) -> Option<(Target, u32)> {
        self.0.get(loose).copied()
    }
}

pub(crate) static FIELDS: LazyLock<AliasIndex> = LazyLock::new(|| AliasIndex::new(FIELD_ALIASES));
pub(crate) static META: LazyLock<AliasIndex> = LazyLock::new(|| AliasIndex::new(META_ALIASES));

/// Looks `loose` up in `table`, giving the target and the name's rank within its list: the
/// definition [`AliasIndex`] is checked against.
#[cfg(test)]
pub(crate) fn lookup(table: &[(Target, &[&str])], loose: &str) -> Option<(Target, u32)> {
    table.iter().find_map(|(t, names)| {
        names
            .iter()
            .position(|n| *n == loose)
            .and_then(|i| u32::try_from(i).ok())
            .map(|i| (*t, i))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_is_already_loose_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for (_, names) in FIELD_ALIASES.iter().chain(META_ALIASES) {
            for n in *names {
                assert_eq!(
                    super::super::shape::loose(n),
                    *n,
                    "{n} is not in loose form"
                );
                assert!(seen.insert(*n), "{n} is listed twice");
            }
        }
    }

    #[test]
    fn the_index_answers_like_the_lists() {
        for table in [FIELD_ALIASES, META_ALIASES] {
            let index = AliasIndex::new(table);
            for (_, names) in table {
                for n in *names {
                    assert_eq!(index.get(n), lookup(table, n), "{n}");
                }
            }
            assert_eq!(index.get("no such field"), None);
        }
        assert_eq!(FIELDS.get("emailaddress"), Some((Target::Email, 1)));
        assert_eq!(META.get("browser"), Some((Target::UserAgent, 0)));
    }

    #[test]
    fn lookup_table() {
        let cases: &[(&str, Option<(Target, u32)>)] = &[
            ("email", Some((Target::Email, 0))),
            ("emailaddress", Some((Target::Email, 1))),
            ("tel", Some((Target::Phone, 1))),
            ("sourceurl", Some((Target::PageUrl, 1))),
            ("browser", None),
            ("website", None),
        ];
        for (name, want) in cases {
            assert_eq!(lookup(FIELD_ALIASES, name), *want, "{name}");
        }
        assert_eq!(
            lookup(META_ALIASES, "browser"),
            Some((Target::UserAgent, 0))
        );
    }
}
