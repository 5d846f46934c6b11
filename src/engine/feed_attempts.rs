//! Feeds sent so that each takes effect at most once, across lost answers and crashes.
//!
//! A feed's work is recorded under an attempt's key before its createFeed goes out
//! (`store::feed_attempts`), and createFeed is never sent again after an attempt Amazon may
//! have taken. While an attempt is open, no other feed of its type is sent. Once the attempt is
//! [`SETTLE`] old (Amazon's time), Amazon's list of the seller's feeds of that type created
//! since it began is read: a feed the store does not know is the attempt's own and is followed
//! from then on (its refunds are not sent again; its SKUs stay in flight until its values are
//! known); none means Amazon created nothing, and the work goes back to be sent. (Amazon's feed
//! carries no reference to the document it was created from, so a feed of the same type that
//! another application of the seller created in that stretch would be taken for the attempt's:
//! run one application per seller and feed type.)

use super::Core;
use crate::amazon::{feeds, Once, Priority};
use crate::error::Result;
use chrono::{DateTime, Duration, Utc};

/// Age (Amazon's time) at which an open attempt is resolved from Amazon's list of feeds: by
/// then no createFeed of a process that died can still be on its way.
pub const SETTLE: Duration = Duration::minutes(2);
/// How much earlier than the attempt's own estimate of Amazon's time a feed it created may
/// show as created.
const SKEW: Duration = Duration::minutes(1);

/// What [`send`] sends.
pub struct Feed<'a> {
    pub feed_type: &'a str,
    pub content_type: &'a str,
    pub marketplace_ids: &'a [String],
    pub bytes: Vec<u8>,
    pub priority: Priority,
}

/// Uploads `feed`, records its work through `begin` (given Amazon's time and the store's;
/// returns the attempt's key) and sends createFeed once. Returns the feed id, or None when
/// the answer was lost (the attempt stays open for [`resolve`]). Err: no feed was created (the
/// work went back to be sent), or the store failed.
pub async fn send(
    core: &Core,
    feed: Feed<'_>,
    begin: impl FnOnce(DateTime<Utc>, DateTime<Utc>) -> Result<String>,
) -> Result<Option<String>> {
    let document =
        feeds::upload_document(&core.client, feed.content_type, feed.bytes, feed.priority).await?;
    let key = begin(core.client.amazon_now(), core.clock.now())?;
    let created = feeds::create(
        &core.client,
        feed.feed_type,
        feed.marketplace_ids,
        &document,
        feed.priority,
    )
    .await;
    match created {
        Ok(Once::Done(id)) => {
            core.store.attempt_created(&key, &id)?;
            Ok(Some(id))
        }
        Ok(Once::Uncertain(e)) => {
            tracing::warn!(
                "createFeed ({}) may have been taken ({e}); Amazon's list of feeds will tell",
                feed.feed_type
            );
            Ok(None)
        }
        Err(e) => {
            core.store.attempt_not_created(&key)?;
            Err(e)
        }
    }
}

/// Resolves the open attempts of `feed_type` that are old enough; returns whether one is
/// still open (then no other feed of the type may be sent yet).
pub async fn resolve(core: &Core, feed_type: &str) -> Result<bool> {
    let mut open = false;
    for attempt in core.store.open_attempts(feed_type)? {
        if core.client.amazon_now() < attempt.at + SETTLE {
            open = true;
            continue;
        }
        let listed = feeds::created_since(
            &core.client,
            feed_type,
            &core.config.marketplace_ids,
            attempt.at - SKEW,
        )
        .await?;
        let mut unknown = Vec::new();
        for (id, _) in listed {
            if !core.store.knows_feed(&id)? {
                unknown.push(id);
            }
        }
        match unknown.first() {
            Some(id) => {
                if unknown.len() > 1 {
                    tracing::warn!(
                        "{} {feed_type} feeds this library does not know were created since a createFeed whose answer was lost; {id} is taken for it",
                        unknown.len()
                    );
                }
                tracing::info!("createFeed's answer was lost; Amazon created feed {id} ({feed_type}): following it");
                core.store.attempt_created(&attempt.key, id)?;
            }
            None => {
                tracing::info!("createFeed's answer was lost and Amazon created no {feed_type} feed: sending its work again");
                core.store.attempt_not_created(&attempt.key)?;
            }
        }
    }
    Ok(open)
}
