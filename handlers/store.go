package handlers

import (
	"context"
	"errors"
	"time"
)

// Errors every Store returns (wrapped, test with errors.Is).
var (
	// ErrNotFound: no such record, session, score or dead letter.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the store cannot be reached or did not answer in
	// time. The operation did not happen, or it is unknown whether it did;
	// retrying later is safe for every operation here.
	ErrUnavailable = errors.New("store unavailable")
	// ErrQueueEmpty: no item is ready to be claimed.
	ErrQueueEmpty = errors.New("queue empty")
	// ErrLeaseLost: the claim's lease expired and the item was claimed
	// again (or finished) by someone else; do not deliver it again.
	ErrLeaseLost = errors.New("lease lost")
)

// Dedup remembers keys for a while so that a retry is recognised:
// WeChat's retried messages, double clicks, repeated reminders.
type Dedup interface {
	// MarkSeen marks key as seen for ttl. It returns true for the first
	// caller only, atomically across processes and instances.
	MarkSeen(ctx context.Context, key string, ttl time.Duration) (first bool, err error)
}

// Sessions keep short-lived state: a quiz in progress, "更多" paging, a
// cached reply, the WeChat access token.
type Sessions interface {
	// GetSession returns the value, or ErrNotFound when absent or expired.
	GetSession(ctx context.Context, key string) ([]byte, error)
	// PutSession stores value for ttl (> 0), replacing any earlier value.
	PutSession(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// DeleteSession removes key; removing an absent key is not an error.
	DeleteSession(ctx context.Context, key string) error
	// IncrSession adds delta to a counter kept as a session and returns the
	// new value, atomically across processes and instances. A counter that
	// does not exist (or has expired) starts at 0 and expires ttl (> 0)
	// after this call; later increments keep that expiry, so the counter
	// counts within a fixed window. Rate limits and lockouts use it.
	IncrSession(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
}

// IndexEntry is a secondary key of a record: Name is the index
// ("openid", "village", "due"), Value the key in it. Values sort as
// strings, so dates are written 2026-12-01.
type IndexEntry struct {
	Name  string
	Value string
}

// IndexHit is one entry found in an index.
type IndexHit struct {
	Value string
	ID    string
}

// Records are the durable data: users, rosters, tasks, check-ins, quiz
// results, notices. A record is opaque bytes (JSON by convention) under a
// kind and an id, with secondary index entries for lookups.
type Records interface {
	// PutRecord creates or replaces a record and replaces its index
	// entries, atomically.
	PutRecord(ctx context.Context, kind, id string, data []byte, index ...IndexEntry) error
	// GetRecord returns the record or ErrNotFound.
	GetRecord(ctx context.Context, kind, id string) ([]byte, error)
	// GetRecords returns the records with these ids, in the same order;
	// an absent one is nil. It reads a large set (a report's answers) in
	// a few round trips instead of one per record.
	GetRecords(ctx context.Context, kind string, ids []string) ([][]byte, error)
	// DeleteRecord removes a record and its index entries; an absent record
	// is not an error.
	DeleteRecord(ctx context.Context, kind, id string) error
	// LookupRecords returns the ids whose index name has exactly value,
	// sorted.
	LookupRecords(ctx context.Context, kind, index, value string) ([]string, error)
	// RangeRecords returns the entries of index name with from <= value <
	// to (to == "" means no upper bound), ordered by value then id, at most
	// limit (<= 0: all).
	RangeRecords(ctx context.Context, kind, index, from, to string, limit int) ([]IndexHit, error)
	// ListRecords returns ids of a kind in order, those after afterID, at
	// most limit (<= 0: all).
	ListRecords(ctx context.Context, kind, afterID string, limit int) ([]string, error)
}

// Scored is one member of a ranking.
type Scored struct {
	Member string
	Score  float64
}

// Counters count and rank: answers per question, quiz scores per user and
// per village.
type Counters interface {
	// Incr adds delta to a counter (absent counts as 0) and returns the new value.
	Incr(ctx context.Context, key string, delta int64) (int64, error)
	// Counter returns a counter's value, 0 when absent.
	Counter(ctx context.Context, key string) (int64, error)
	// AddScore adds delta to member's score on board and returns the new score.
	AddScore(ctx context.Context, board, member string, delta float64) (float64, error)
	// TopScores returns the n highest scores on board, highest first.
	// Members with equal scores come in a fixed order chosen by the backend.
	TopScores(ctx context.Context, board string, n int) ([]Scored, error)
	// ScoreOf returns member's score and 1-based rank (1 = highest), or
	// ErrNotFound.
	ScoreOf(ctx context.Context, board, member string) (score float64, rank int, err error)
}

// QueueItem is a unit of outbound work: one message to one person.
type QueueItem struct {
	// Key makes enqueueing idempotent: a key that is waiting, in flight,
	// dead, or done within the retention period is not enqueued again.
	Key     string
	Payload []byte
	// NotBefore delays the first delivery; zero means now.
	NotBefore time.Time
	// MaxAttempts is how many deliveries are tried before the item is
	// dead-lettered; 0 means DefaultMaxAttempts.
	MaxAttempts int
}

// DefaultMaxAttempts is used when QueueItem.MaxAttempts is 0.
const DefaultMaxAttempts = 5

// Schedule returns when the item is first due (NotBefore, or now if that
// is zero or past) and its attempt limit with the default applied. Every
// Queue backend enqueues with it.
func (it QueueItem) Schedule(now time.Time) (due time.Time, maxAttempts int) {
	due = it.NotBefore
	if due.IsZero() || due.Before(now) {
		due = now
	}
	maxAttempts = it.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	return due, maxAttempts
}

// Claimed is an item handed to one worker under a lease.
type Claimed struct {
	QueueItem
	// Attempt counts deliveries, 1 for the first.
	Attempt int
	// Token identifies this claim: Ack and Retry need it, so a worker whose
	// lease expired cannot finish an item another worker now holds.
	Token string
	// LastError is the reason given to the previous Retry, if any.
	LastError string
}

// DeadLetter is an item that will not be tried again.
type DeadLetter struct {
	QueueItem
	Attempts int
	Reason   string
	At       time.Time
}

// Queue is a durable work queue for outbound messages.
type Queue interface {
	// Enqueue adds an item unless its key is known (see QueueItem.Key); it
	// reports whether the item was added.
	Enqueue(ctx context.Context, queue string, item QueueItem) (added bool, err error)
	// Claim hands out the ready item that has waited longest, under a lease:
	// until the lease ends no other Claim returns it. An item whose worker
	// died comes back when its lease ends. A claim beyond MaxAttempts (the
	// workers kept dying) dead-letters the item instead. ErrQueueEmpty when
	// nothing is ready.
	Claim(ctx context.Context, queue string, lease time.Duration) (*Claimed, error)
	// Ack finishes a claimed item; ErrLeaseLost if the claim is no longer
	// the current one.
	Ack(ctx context.Context, queue, key, token string) error
	// Retry gives a claimed item back to be tried again at notBefore, or
	// dead-letters it with reason when its attempts are used up (dead is
	// then true). ErrLeaseLost as for Ack.
	Retry(ctx context.Context, queue, key, token string, notBefore time.Time, reason string) (dead bool, err error)
	// Bury dead-letters a claimed item now with reason, whatever attempts
	// are left (an error retrying cannot fix). ErrLeaseLost as for Ack.
	Bury(ctx context.Context, queue, key, token, reason string) error
	// DeadLetters lists up to limit dead items (<= 0: all), oldest first.
	DeadLetters(ctx context.Context, queue string, limit int) ([]DeadLetter, error)
	// Revive puts a dead item back in the queue with fresh attempts, ready
	// now; ErrNotFound if no such dead item.
	Revive(ctx context.Context, queue, key string) error
}

// Locks are leases that make a job run once across instances.
type Locks interface {
	// AcquireLease takes name for owner for ttl. It returns true when owner
	// now holds it (newly, or already: the lease is then extended), false
	// when someone else does.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// RenewLease extends owner's lease; false when owner no longer holds it.
	RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up; false (and no change) when owner
	// does not hold it.
	ReleaseLease(ctx context.Context, name, owner string) (bool, error)
}

// Store is everything policybot keeps. Both backends (embedded and Redis)
// pass the same contract suite (store/storetest).
type Store interface {
	Dedup
	Sessions
	Records
	Counters
	Queue
	Locks
	// Ping reports whether the store is reachable (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the store; operations after Close fail.
	Close() error
}

// StateStore is what the intents that keep state (the quiz, staff and
// notices) need from the store.
type StateStore interface {
	Dedup
	Sessions
	Records
	Counters
	Queue
}

// SeenLoader is an optional fast path a Store may offer: MarkSeen and
// GetSession in one round trip (the first thing done for every message).
// On Redis Cluster the two keys must share a hash tag.
type SeenLoader interface {
	MarkSeenAndGet(ctx context.Context, seenKey string, ttl time.Duration, sessionKey string) (first bool, session []byte, err error)
}

// SessionPut is one session write of a batch.
type SessionPut struct {
	Key   string
	Value []byte
	TTL   time.Duration
}

// SessionBatcher is an optional fast path: several PutSession in one round
// trip.
type SessionBatcher interface {
	PutSessions(ctx context.Context, puts []SessionPut) error
}
