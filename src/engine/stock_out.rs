//! Flow 2, stock out: keeps the quantity Amazon shows equal to what the shop can ship, in two
//! independent lanes.
//!
//! - The **patch lane** (`run_patches`) sends urgent decreases (to zero or the urgent
//!   threshold) at once, and every change that came alone or with few others (the fast lane),
//!   through patchListingsItem (5 per second). It never waits for a feed.
//! - The **feed lane** (`run_feeds`) looks new SKUs up, follows the listings feeds in flight
//!   and reads their processing reports back, and sends bulk (a host call that changed more
//!   than `BULK_CHANGE` SKUs, or everything when the fast lane is off) in one
//!   JSON_LISTINGS_FEED, at most 5 per 5 minutes, taking createFeed's tokens only when no order
//!   feed waits for one. Amazon processes a seller's listings feeds one after another, so a
//!   feed not done after `stock.feed_late_seconds` holds up the later ones: it is reported once
//!   (`stock.feed_late`), while the patch lane goes on.
//!
//! Before a quantity goes out, Amazon's current quantity is read back (20 SKUs per
//! searchListingsItems call) and the units Amazon took for orders not visible yet are held back
//! (see `Store::unseen_units`), so a push never hands back units Amazon already sold. A SKU
//! whose value changes while a feed carries an older one waits for that feed and is then sent
//! again, so the latest value always wins.

use super::{feed_attempts, Core};
use crate::amazon::{feeds, listings, unless_too_large};
use crate::error::Result;
use crate::model::Event;
use crate::store::feed_watch::LateFeed;
use crate::store::stock::{FeedMessage, Push, Seen, Shown};
use crate::store::ts;
use chrono::Duration;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the read-backs of this handle found, SKU by SKU (the state document's
/// `stock.read_back`): what each one bought.
#[derive(Debug, Default)]
pub struct ReadBacks {
    /// SKUs read.
    pub skus: AtomicU64,
    /// Reads that lowered the value sent: Amazon had taken units for orders not seen yet.
    pub lowered: AtomicU64,
    /// Reads that found Amazon already showing the value to send (no push).
    pub already_shown: AtomicU64,
    /// Reads that saw a value sent earlier landing.
    pub saw_landing: AtomicU64,
}

impl ReadBacks {
    /// The counts as JSON (`skus`, `lowered`, `already_shown`, `saw_landing`, and `idle`:
    /// reads that did none of these).
    pub fn json(&self) -> serde_json::Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let (skus, lowered, shown, landed) = (
            get(&self.skus),
            get(&self.lowered),
            get(&self.already_shown),
            get(&self.saw_landing),
        );
        serde_json::json!({"skus": skus, "lowered": lowered, "already_shown": shown,
            "saw_landing": landed, "idle": skus.saturating_sub(lowered + shown + landed)})
    }
}

/// Most ordinary changes the fast lane sends in one pass (about one second of
/// patchListingsItem); it runs again at once for the rest, so an urgent change never waits
/// longer than that.
pub const FAST_LANE_BATCH: usize = 5;

/// What one stock pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Quantities set directly (urgent and fast lane).
    pub patched: u64,
    /// Feeds submitted.
    pub feeds_submitted: u64,
    /// Messages in those feeds.
    pub messages: u64,
    /// Feeds finished and read back.
    pub feeds_finished: u64,
    /// Messages Amazon rejected.
    pub rejected: u64,
    /// Units held back for orders Amazon took and this store had not seen yet.
    pub held_back: u64,
}

impl Report {
    /// The sum of two reports (the two lanes of one cycle).
    pub fn merge(self, o: Report) -> Report {
        Report {
            patched: self.patched + o.patched,
            feeds_submitted: self.feeds_submitted + o.feeds_submitted,
            messages: self.messages + o.messages,
            feeds_finished: self.feeds_finished + o.feeds_finished,
            rejected: self.rejected + o.rejected,
            held_back: self.held_back + o.held_back,
        }
    }
}

/// Whether the fast lane takes this ordinary (not urgent) change: one that came alone or with
/// few others, while the fast lane is on.
fn fast_lane_takes(core: &Core, p: &Push) -> bool {
    core.config.stock.fast_lane && !p.bulk
}

/// The patch lane: urgent decreases, then the fast lane.
pub async fn run_patches(core: &Core) -> Result<Report> {
    let mut report = Report::default();
    core.store.release_expired_holds(core.client.amazon_now())?;
    let pushes = core.store.pending_pushes(&core.config.stock)?;
    let (mut urgent, ordinary): (Vec<Push>, Vec<Push>) =
        pushes.into_iter().partition(Push::is_urgent);
    let mut ordinary: Vec<Push> = ordinary
        .into_iter()
        .filter(|p| !p.in_feed && fast_lane_takes(core, p))
        .collect();
    // Falls first: they keep Amazon from selling what the shop no longer has; last, the rises
    // over a value in flight, which are likely to wait for it (`Push::waits_for_landing`).
    ordinary.sort_by_key(|p| {
        (
            p.amazon.is_none_or(|a| p.desired >= a),
            p.sent.is_some_and(|s| p.desired > s),
        )
    });
    let more = ordinary.len() > FAST_LANE_BATCH;
    ordinary.truncate(FAST_LANE_BATCH);
    // Urgent ones first: they are what keeps Amazon from selling units the shop no longer has.
    for lane in [&mut urgent, &mut ordinary] {
        report.held_back += read_back(core, lane).await?;
        for p in lane.iter() {
            patch(core, p, &mut report).await?;
        }
    }
    // The rest at once, unless the whole batch waited (then so would the rest: next interval).
    if more && ordinary.iter().any(|p| !p.waits) {
        core.flows.wake(super::Flow::StockPatches);
    }
    Ok(report)
}

async fn patch(core: &Core, p: &Push, report: &mut Report) -> Result<()> {
    // What the SKU should show changed since this pass read Amazon (the host reported stock,
    // or an order Amazon held units for became visible): the units held were counted for the
    // old value, so the next pass (at once) reads again and sends the latest value.
    if let Some((Some(desired), _)) = core.store.sku_quantities(&p.sku)? {
        if desired != p.desired {
            core.flows.wake(super::Flow::StockPatches);
            return Ok(());
        }
    }
    if p.waits {
        return Ok(()); // Read again by the next pass.
    }
    if let Some(value) = already_shown(p) {
        return core
            .store
            .record_patch(&p.sku, &value, p.took.as_ref(), Ok(()));
    }
    let _in_flight = InFlight::new(core, &p.sku);
    let sent_at = core.client.amazon_now();
    core.store.note_sent(
        &[(
            &p.sku,
            p.send,
            p.listing_updated,
            &p.in_flight_before(),
            p.sent_at.as_deref(),
        )],
        sent_at,
    )?;
    let outcome = listings::patch_quantity(
        &core.client,
        &core.config.seller_id,
        &core.config.marketplace_ids,
        &p.sku,
        &p.product_type,
        p.send,
        p.handling_days,
    )
    .await?;
    if let Err(message) = &outcome {
        core.event(&Event::StockRejected {
            sku: p.sku.clone(),
            quantity: p.send,
            message: message.clone(),
        })?;
        report.rejected += 1;
    }
    let value = Shown {
        quantity: p.send,
        pushed_for: p.desired,
        at: core.client.amazon_now(),
        covers: Some(ts(sent_at)),
        handling_days: p.handling_days,
        // Amazon applies it later: it counts as landed once a read or a notification shows it.
        seen: Seen::Accepted { last_read: p.shows },
    };
    core.store
        .record_patch(&p.sku, &value, p.took.as_ref(), outcome)?;
    report.patched += 1;
    Ok(())
}

/// What Amazon shows when the read before a push found it showing the value to send (typically:
/// an order took the units), with the handling time in step and no other value sent still to
/// land over it: nothing to send.
fn already_shown(p: &Push) -> Option<Shown> {
    let (shows, read_at) = p.shows.filter(|(q, _)| {
        *q == p.send && p.handling_in_step && p.sent.is_none_or(|sent| sent == *q)
    })?;
    Some(Shown {
        quantity: shows,
        pushed_for: p.desired,
        at: read_at,
        covers: Some(ts(read_at)),
        handling_days: None,
        seen: Seen::Shown,
    })
}

/// Marks a SKU's patch in flight for as long as it lives (see `Core::patches_in_flight`).
struct InFlight<'a> {
    core: &'a Core,
    sku: String,
}

impl<'a> InFlight<'a> {
    fn new(core: &'a Core, sku: &str) -> Self {
        super::lock(&core.patches_in_flight).insert(sku.to_string());
        InFlight {
            core,
            sku: sku.to_string(),
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        super::lock(&self.core.patches_in_flight).remove(&self.sku);
    }
}

/// The feed lane: look-ups, feeds in flight, and bulk.
pub async fn run_feeds(core: &Core) -> Result<Report> {
    let mut report = Report::default();
    if look_up_listings(core).await? > 0 {
        // Their changes may go out by the patch lane at once.
        core.flows.wake(super::Flow::StockPatches);
    }
    follow_feeds(core, &mut report).await?;
    if feed_attempts::resolve(core, feeds::LISTINGS_FEED).await? {
        return Ok(report); // The last feed's createFeed answer was lost: not known yet.
    }
    let mut bulk: Vec<Push> = core
        .store
        .pending_pushes(&core.config.stock)?
        .into_iter()
        .filter(|p| !p.is_urgent() && !p.in_feed && !fast_lane_takes(core, p))
        .collect();
    if bulk.is_empty() {
        return Ok(report);
    }
    let window =
        Duration::milliseconds((core.config.stock.listings_feed_window_seconds * 1000.0) as i64);
    for chunk in bulk.chunks_mut(feeds::MAX_MESSAGES) {
        if core.store.feeds_since(core.clock.now() - window)? >= 5 {
            break; // Amazon's limit for JSON_LISTINGS_FEED: the rest goes in a later pass.
        }
        report.held_back += read_back(core, chunk).await?;
        let mut going = Vec::with_capacity(chunk.len());
        for p in chunk.iter() {
            match already_shown(p) {
                Some(value) => core
                    .store
                    .record_patch(&p.sku, &value, p.took.as_ref(), Ok(()))?,
                None if !p.waits => going.push(p),
                None => {}
            }
        }
        if going.is_empty() {
            continue;
        }
        let chunk = going;
        let now = core.client.amazon_now();
        let sent_at = ts(now);
        let messages: Vec<(FeedMessage, String)> = chunk
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    FeedMessage {
                        message_id: i as i64 + 1,
                        sku: p.sku.clone(),
                        quantity: p.send,
                        pushed_for: Some(p.desired),
                        took: p.took.clone(),
                        sent_at: Some(sent_at.clone()),
                        handling_days: p.handling_days,
                    },
                    p.product_type.clone(),
                )
            })
            .collect();
        let document = feeds::listings_feed(&core.config.seller_id, &messages);
        // Amazon may apply the feed although this process dies before recording it.
        let before: Vec<Vec<i64>> = chunk.iter().map(|p| p.in_flight_before()).collect();
        let sent: Vec<(&str, i64, _, &[i64], _)> = chunk
            .iter()
            .zip(&before)
            .map(|(p, b)| {
                let at = p.sent_at.as_deref();
                (p.sku.as_str(), p.send, p.listing_updated, b.as_slice(), at)
            })
            .collect();
        core.store.note_sent(&sent, now)?;
        let messages: Vec<FeedMessage> = messages.into_iter().map(|(m, _)| m).collect();
        let feed = feed_attempts::Feed {
            feed_type: feeds::LISTINGS_FEED,
            content_type: feeds::JSON,
            marketplace_ids: &core.config.marketplace_ids,
            bytes: document.to_string().into_bytes(),
            priority: crate::amazon::Priority::Bulk,
        };
        // Its SKUs are in flight from before createFeed: if the answer is lost, no newer value
        // goes out for them until Amazon's list of feeds shows whether it was taken.
        let sent = feed_attempts::send(core, feed, |at, now| {
            core.store.begin_listings_feed(&messages, at, now)
        })
        .await?;
        report.feeds_submitted += 1;
        report.messages += messages.len() as u64;
        if sent.is_none() {
            break; // No other listings feed while one is not known to be created or not.
        }
    }
    Ok(report)
}

/// Lowers what each push sends by the units Amazon took for orders not seen yet (as earlier
/// reads and notifications showed), reading Amazon's current quantity (20 SKUs per
/// searchListingsItems call) of every SKU Amazon last showed above zero. Returns the units
/// held back.
async fn read_back(core: &Core, pushes: &mut [Push]) -> Result<u64> {
    // A SKU last at zero cannot have sold since (unless a value sent for it may have landed);
    // a comma would split the identifiers. Without read-back, only a SKU with a value sent and
    // not seen landing is read, to see it land (else it would be sent again after the hour,
    // and again), and only what notifications said Amazon took is held.
    let read_back = core.config.stock.read_back;
    let skus: Vec<String> = pushes
        .iter()
        .filter(|p| {
            ((read_back && p.amazon.is_some_and(|a| a > 0)) || p.sent.is_some())
                && !p.sku.contains(',')
        })
        .map(|p| p.sku.clone())
        .collect();
    core.read_backs
        .skus
        .fetch_add(skus.len() as u64, Ordering::Relaxed);
    // Amazon keeps one quantity per seller and SKU: it is read from every configured
    // marketplace at once, as it is pushed, so a SKU offered in any of them is found.
    let marketplaces = &core.config.marketplace_ids;
    let mut shows = std::collections::HashMap::new();
    for chunk in skus.chunks(20) {
        let found =
            listings::search_by_skus(&core.client, &core.config.seller_id, marketplaces, chunk)
                .await?;
        shows.extend(
            found
                .into_iter()
                .filter_map(|f| Some((f.sku, (f.quantity?, f.updated)))),
        );
    }
    let now = core.client.amazon_now();
    let mut held = 0;
    for p in pushes.iter_mut() {
        // What Amazon was known to show may have moved since the pass began (a quantity
        // notification): the stretch read now starts from the latest known value.
        let known = core.store.amazon_known(&p.sku)?;
        if let Some(k) = &known {
            (p.amazon, p.amazon_at) = (k.amazon, k.amazon_at.clone());
        }
        let (shown, updated) = match shows.get(&p.sku) {
            Some((q, updated)) => (Some(*q), *updated),
            None => (None, None),
        };
        // A value sent and not seen landing yet (a patch Amazon accepted, or one whose outcome
        // was lost with its process) landed when the listing changed since the read before it
        // went out (Amazon moves `lastUpdatedDate` when it applies a submission, not when an
        // order takes units) and shows no more than it (orders took units after it landed), or
        // shows more than the last value seen: Amazon took only that since it. Amazon showing
        // the value counts too, but not when the date read before it went out has not moved
        // (orders took the units down to it). Else it has not landed, and what Amazon took
        // counts from the last value read. Both dates are Amazon's (to the millisecond); without
        // a read before the value went out, the value's own send time stands in, a second later
        // (it is the library's estimate of Amazon's clock, within a second).
        //
        // Amazon applies a SKU's submissions in order: a change showing exactly the value sent
        // before it (not seen landing when this one went out) is that value landing, this one
        // still to land.
        let before = known.as_ref().and_then(|k| match &k.listing_updated {
            Some(read) => parse_time(read),
            None => k
                .patch_sent
                .as_ref()
                .and_then(|(_, at)| parse_time(at))
                .map(|t| t + Duration::seconds(1)),
        });
        let changed_since = updated.zip(before).is_some_and(|(u, b)| u > b);
        // A change dated more than a second before the value went out is not that value
        // landing: it is something else landing before it (a feed, or a value whose process
        // died before it was recorded) that no read has seen since.
        let sent_at = known
            .as_ref()
            .and_then(|k| k.patch_sent.as_ref())
            .and_then(|(_, at)| parse_time(at));
        let changed_since_sent = changed_since
            && updated
                .zip(sent_at)
                .is_none_or(|(u, sent)| u > sent - Duration::seconds(1));
        // Without a read before the value went out, Amazon showing more than the last value
        // seen is the sent value landing too (orders only take units). (With one, the dates
        // tell: the rise may be an earlier value landing, seen by a read whose push failed.)
        let risen = known.as_ref().is_some_and(|k| k.listing_updated.is_none())
            && shown.zip(p.amazon).is_some_and(|(q, a)| q > a);
        let dated =
            known.as_ref().is_some_and(|k| k.listing_updated.is_some()) && updated.is_some();
        // Showing exactly the earlier value below the later one is also both landing and orders
        // taking the difference: an order seen placed after the change tells it (with only the
        // earlier landed, Amazon would show less), else the later value waits
        // (`Push::waits_for_landing`).
        let sent_before = known
            .as_ref()
            .map(|k| k.sent_before.clone())
            .unwrap_or_default();
        let sent_value = known.as_ref().and_then(|k| k.patch_sent.clone());
        // The oldest value sent before that shows: it and the ones before it landed.
        let matched = sent_value.as_ref().and_then(|(sent, _)| {
            sent_before
                .iter()
                .position(|b| changed_since && shown == Some(*b) && b != sent)
        });
        let later_landed = match (matched, &sent_value, updated) {
            (Some(k), Some((sent, _)), Some(u)) if sent_before[k] < *sent => {
                core.store.ordered_after(&p.sku, u)?
            }
            _ => false,
        };
        let matched = matched.filter(|_| !later_landed);
        let before_landed = matched
            .zip(sent_value)
            .map(|(k, (_, sent_at))| (sent_before[k], sent_at));
        let landed = known.and_then(|k| k.patch_sent).filter(|(sent, _)| {
            before_landed.is_none()
                && ((shown == Some(*sent) && (changed_since || !dated))
                    || ((changed_since_sent || risen) && shown.is_some_and(|q| q <= *sent)))
        });
        let saw_landing = landed.is_some() || before_landed.is_some();
        // Amazon showing less than both the value sent and the one sent before it may be the
        // earlier one landing and orders taking more: the value sent may still land over what
        // is shown, so it is not taken for landed when deciding whether to send (the side that
        // holds more still counts for the units held), and the value goes out again: Amazon
        // applies a SKU's submissions in order, so the newest lands last.
        let may_still_land = !later_landed
            && landed.as_ref().is_some_and(|(sent, _)| {
                shown != Some(*sent) && sent_before.iter().any(|b| b != sent)
            });
        p.sent_before = match matched {
            Some(k) => sent_before[k + 1..].to_vec(),
            None => sent_before,
        };
        if landed.is_some() && !may_still_land {
            (p.sent, p.sent_before) = (None, Vec::new());
        }
        let read = match (
            landed.or(before_landed),
            p.amazon,
            p.amazon_at.as_deref(),
            shown,
        ) {
            (Some((sent, sent_at)), _, known_at, Some(q)) => Some((
                sent,
                landed_at(&sent_at, known_at, updated, changed_since),
                q,
            )),
            (None, Some(amazon), Some(at), Some(q)) => Some((amazon, at.to_string(), q)),
            _ => None,
        };
        let read = read.as_ref().map(|(a, at, q)| (*a, at.as_str(), *q));
        let held_before = match shown {
            Some(_) => core.store.unseen_units(&p.sku, None, now)?.0,
            None => 0,
        };
        let (unseen, took) = core
            .store
            .unseen_units(&p.sku, read.filter(|_| read_back), now)?;
        p.send = (p.desired - unseen).max(0);
        if shown.is_some() {
            let counts = &core.read_backs;
            let counter = if unseen > held_before {
                Some(&counts.lowered)
            } else if shown == Some(p.send) {
                Some(&counts.already_shown)
            } else if saw_landing {
                Some(&counts.saw_landing)
            } else {
                None
            };
            counter.map(|c| c.fetch_add(1, Ordering::Relaxed));
        }
        p.held = unseen;
        // A value that may still land over what is shown goes out again at once (it lands
        // last); any other value in flight makes a higher one wait.
        p.waits = !may_still_land && p.waits_for_landing(now);
        p.shows = read.map(|r| (r.2, now));
        p.listing_updated = updated;
        p.took = took;
        held += unseen as u64;
    }
    Ok(held)
}

/// Since when a sent value that landed counts: the listing's change after the read before it
/// went out, when that shows it (Amazon's own clock, to the millisecond); else when it was
/// sent, but never before the last value seen (both the library's estimate of Amazon's clock,
/// which moves with each answer's whole-second `Date`), so its stretch does not overlap the
/// one kept before it.
fn landed_at(
    sent_at: &str,
    known_at: Option<&str>,
    updated: Option<chrono::DateTime<chrono::Utc>>,
    changed_since: bool,
) -> String {
    match updated.filter(|_| changed_since) {
        Some(u) => ts(u),
        None => known_at.map_or(sent_at, |k| k.max(sent_at)).to_string(),
    }
}

fn parse_time(t: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// SKUs taken from the store at a time for look-ups (20 per searchListingsItems call).
const LOOKUP_BATCH: usize = 1000;

/// Learns each newly mapped SKU's product type and current quantity from its Amazon listing,
/// 20 SKUs per searchListingsItems call, before anything is pushed for it. Returns how many.
async fn look_up_listings(core: &Core) -> Result<usize> {
    let marketplaces = &core.config.marketplace_ids;
    let mut looked_up = 0;
    loop {
        let skus = core.store.skus_to_look_up(LOOKUP_BATCH)?;
        if skus.is_empty() {
            return Ok(looked_up);
        }
        looked_up += skus.len();
        // A comma would split the comma-separated identifiers: such SKUs keep the configured
        // product type.
        let (plain, odd): (Vec<String>, Vec<String>) =
            skus.into_iter().partition(|s| !s.contains(','));
        for chunk in plain.chunks(20) {
            let found =
                listings::search_by_skus(&core.client, &core.config.seller_id, marketplaces, chunk)
                    .await?;
            let now = core.client.amazon_now();
            let fba: Vec<String> = found
                .iter()
                .filter(|f| f.fulfilled_by_amazon)
                .map(|f| f.sku.clone())
                .collect();
            super::fba::mark(core, &fba)?;
            for sku in chunk {
                let hit = found
                    .iter()
                    .find(|f| &f.sku == sku)
                    .map(|f| (f.product_type.clone(), f.quantity));
                core.store.record_lookup(sku, hit, now)?;
            }
        }
        for sku in odd {
            core.store
                .record_lookup(&sku, Some((None, None)), core.client.amazon_now())?;
        }
    }
}

/// Reads back every finished feed: accepted values are what Amazon shows; rejected ones are
/// reported and tried again. One still unfinished after `stock.feed_late_seconds` is reported
/// late, once.
async fn follow_feeds(core: &Core, report: &mut Report) -> Result<()> {
    let late_after = Duration::milliseconds((core.config.stock.feed_late_seconds * 1000.0) as i64);
    let late = core.store.late_feeds(core.clock.now() - late_after)?;
    for (feed_id, messages) in core.store.open_feeds()? {
        let feeds::FeedStatus {
            status,
            document,
            ended,
        } = feeds::status(&core.client, &feed_id).await?;
        let processing = match (status.as_str(), document) {
            ("DONE", Some(doc)) => unless_too_large(feeds::report(&core.client, &doc).await)?,
            ("DONE" | "FATAL" | "CANCELLED", _) => None,
            _ => {
                if let Some(feed) = late.iter().find(|l| l.feed_id == feed_id) {
                    report_late(core, feed, &status, messages.len())?;
                }
                continue;
            }
        };
        match processing {
            Some(processing) => {
                let (accepted, rejected) = feeds::outcome(&messages, &processing);
                for (m, message) in &rejected {
                    core.event(&Event::StockRejected {
                        sku: m.sku.clone(),
                        quantity: m.quantity,
                        message: message.clone(),
                    })?;
                }
                report.rejected += rejected.len() as u64;
                // Amazon shows the accepted values since the feed's processing ended (orders
                // placed after took units from them).
                core.store.finish_feed(
                    &feed_id,
                    "DONE",
                    &accepted,
                    &rejected,
                    ended.unwrap_or_else(|| core.client.amazon_now()),
                )?;
            }
            None => {
                // Nothing of it can be trusted to have been applied (no processing report, or
                // one too large to read): everything is sent again.
                feeds::ended_without_result(&feed_id, &status);
                let rejected: Vec<(FeedMessage, String)> = messages
                    .into_iter()
                    .map(|m| (m, format!("the feed ended {status}")))
                    .collect();
                core.store.finish_feed(
                    &feed_id,
                    &status,
                    &[],
                    &rejected,
                    core.client.amazon_now(),
                )?;
            }
        }
        report.feeds_finished += 1;
    }
    Ok(())
}

/// Reports a late feed of `skus` SKUs (`stock.feed_late`) unless it was reported before.
fn report_late(core: &Core, feed: &LateFeed, status: &str, skus: usize) -> Result<()> {
    let now = core.clock.now();
    let seconds = (now - feed.submitted_at).num_seconds();
    let event = Event::StockFeedLate {
        feed_id: feed.feed_id.clone(),
        status: status.to_string(),
        seconds,
        skus: skus as u64,
    };
    if core.store.report_late_feed(&feed.feed_id, &event, now)? {
        tracing::warn!(
            "listings feed {} is still {status} after {seconds} s; Amazon holds later listings feeds behind it",
            feed.feed_id
        );
        core.hub.notify();
    }
    Ok(())
}
