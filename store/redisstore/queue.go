package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"policybot/handlers"
)

// A queue Q has, all under hash tag {q:Q}:
//
//	<p>{q:Q}:items        hash key → item state (JSON)
//	<p>{q:Q}:due          sorted set key → due time (unix ms); an item in
//	                      flight is due again when its lease ends
//	<p>{q:Q}:dead         hash key → item state with reason and time
//	<p>{q:Q}:done:<key>   string with a TTL: the key finished recently

func (s *Store) qkeys(q string) (items, due, dead, donePrefix string) {
	p := s.p + "{q:" + q + "}:"
	return p + "items", p + "due", p + "dead", p + "done:"
}

// itemState matches the fields the scripts read and write.
type itemState struct {
	Key         string `json:"k"`
	Payload     []byte `json:"p,omitempty"`
	MaxAttempts int    `json:"m"`
	Attempts    int    `json:"a"`
	Token       string `json:"t,omitempty"`
	LastError   string `json:"e,omitempty"`
	Due         int64  `json:"d"`
	Created     int64  `json:"c"`
	Reason      string `json:"r,omitempty"`  // dead letters
	DeadAt      int64  `json:"at,omitempty"` // dead letters, unix ms
}

var enqueueScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1`)

// claimScript hands out the item due first, burying items whose attempts
// were all used by workers that never came back.
var claimScript = redis.NewScript(`
local now = tonumber(ARGV[1])
while true do
  local r = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1)
  if #r == 0 then return false end
  local key = r[1]
  local raw = redis.call('HGET', KEYS[1], key)
  if not raw then
    redis.call('ZREM', KEYS[2], key)
  else
    local st = cjson.decode(raw)
    if st.a >= st.m then
      st.r = 'lease expired ' .. st.a .. ' times: the worker died or hung on every attempt'
      st.at = now
      st.t = nil
      redis.call('ZREM', KEYS[2], key)
      redis.call('HDEL', KEYS[1], key)
      redis.call('HSET', KEYS[3], key, cjson.encode(st))
    else
      st.a = st.a + 1
      st.t = ARGV[3]
      st.d = now + tonumber(ARGV[2])
      local enc = cjson.encode(st)
      redis.call('HSET', KEYS[1], key, enc)
      redis.call('ZADD', KEYS[2], st.d, key)
      return enc
    end
  end
end`)

var ackScript = redis.NewScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local st = cjson.decode(raw)
if st.t == nil or st.t ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
return 1`)

// retryScript returns 0 (lease lost), 1 (rescheduled) or 2 (dead).
var retryScript = redis.NewScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local st = cjson.decode(raw)
if st.t == nil or st.t ~= ARGV[2] then return 0 end
local now = tonumber(ARGV[5])
st.t = nil
if st.a >= st.m or ARGV[6] == '1' then
  st.r = ARGV[4]
  st.at = now
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(st))
  return 2
end
st.e = ARGV[4]
st.d = math.max(tonumber(ARGV[3]), now)
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(st))
redis.call('ZADD', KEYS[2], st.d, ARGV[1])
return 1`)

var reviveScript = redis.NewScript(`
local raw = redis.call('HGET', KEYS[3], ARGV[1])
if not raw then return 0 end
local old = cjson.decode(raw)
local now = tonumber(ARGV[2])
local st = {k = old.k, m = old.m, a = 0, d = now, c = now}
if old.p then st.p = old.p end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(st))
redis.call('ZADD', KEYS[2], now, ARGV[1])
return 1`)

// Enqueue implements handlers.Queue.
func (s *Store) Enqueue(ctx context.Context, queue string, it handlers.QueueItem) (bool, error) {
	if it.Key == "" {
		return false, fmt.Errorf("redis store: empty queue key")
	}
	now := s.now()
	due, max := it.Schedule(now)
	st, err := json.Marshal(itemState{Key: it.Key, Payload: it.Payload, MaxAttempts: max, Due: due.UnixMilli(), Created: now.UnixMilli()})
	if err != nil {
		return false, fmt.Errorf("redis store: %w", err)
	}
	items, dueKey, dead, done := s.qkeys(queue)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := enqueueScript.Run(ctx, s.c, []string{items, dueKey, dead, done + it.Key}, it.Key, st, due.UnixMilli()).Int()
	return n == 1, wrap("enqueue", err)
}

// Claim implements handlers.Queue.
func (s *Store) Claim(ctx context.Context, queue string, lease time.Duration) (*handlers.Claimed, error) {
	items, due, dead, _ := s.qkeys(queue)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	raw, err := claimScript.Run(ctx, s.c, []string{items, due, dead}, s.now().UnixMilli(), lease.Milliseconds(), newToken()).Text()
	if err == redis.Nil {
		return nil, handlers.ErrQueueEmpty
	}
	if err != nil {
		return nil, wrap("claim", err)
	}
	var st itemState
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return nil, fmt.Errorf("redis store: claimed item is unreadable: %w", err)
	}
	return &handlers.Claimed{
		QueueItem: handlers.QueueItem{Key: st.Key, Payload: st.Payload, MaxAttempts: st.MaxAttempts},
		Attempt:   st.Attempts, Token: st.Token, LastError: st.LastError,
	}, nil
}

// Ack implements handlers.Queue.
func (s *Store) Ack(ctx context.Context, queue, key, token string) error {
	items, due, _, done := s.qkeys(queue)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := ackScript.Run(ctx, s.c, []string{items, due, done + key}, key, token, s.doneTTL.Milliseconds()).Int()
	if err != nil {
		return wrap("ack", err)
	}
	if n == 0 {
		return fmt.Errorf("ack %s/%s: %w", queue, key, handlers.ErrLeaseLost)
	}
	return nil
}

// Retry implements handlers.Queue.
func (s *Store) Retry(ctx context.Context, queue, key, token string, notBefore time.Time, reason string) (bool, error) {
	items, due, dead, _ := s.qkeys(queue)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := retryScript.Run(ctx, s.c, []string{items, due, dead}, key, token, notBefore.UnixMilli(), reason, s.now().UnixMilli(), "0").Int()
	if err != nil {
		return false, wrap("retry", err)
	}
	if n == 0 {
		return false, fmt.Errorf("retry %s/%s: %w", queue, key, handlers.ErrLeaseLost)
	}
	return n == 2, nil
}

// Bury implements handlers.Queue.
func (s *Store) Bury(ctx context.Context, queue, key, token, reason string) error {
	items, due, dead, _ := s.qkeys(queue)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := retryScript.Run(ctx, s.c, []string{items, due, dead}, key, token, 0, reason, s.now().UnixMilli(), "1").Int()
	if err != nil {
		return wrap("bury", err)
	}
	if n == 0 {
		return fmt.Errorf("bury %s/%s: %w", queue, key, handlers.ErrLeaseLost)
	}
	return nil
}

// DeadLetters implements handlers.Queue.
func (s *Store) DeadLetters(ctx context.Context, queue string, limit int) ([]handlers.DeadLetter, error) {
	_, _, dead, _ := s.qkeys(queue)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	all, err := s.c.HGetAll(ctx, dead).Result()
	if err != nil {
		return nil, wrap("dead letters", err)
	}
	out := make([]handlers.DeadLetter, 0, len(all))
	for k, raw := range all {
		var st itemState
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return nil, fmt.Errorf("redis store: dead letter %q is unreadable: %w", k, err)
		}
		out = append(out, handlers.DeadLetter{
			QueueItem: handlers.QueueItem{Key: st.Key, Payload: st.Payload, MaxAttempts: st.MaxAttempts},
			Attempts:  st.Attempts, Reason: st.Reason, At: time.UnixMilli(st.DeadAt),
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Key < out[j].Key
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Revive implements handlers.Queue.
func (s *Store) Revive(ctx context.Context, queue, key string) error {
	items, due, dead, _ := s.qkeys(queue)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := reviveScript.Run(ctx, s.c, []string{items, due, dead}, key, s.now().UnixMilli()).Int()
	if err != nil {
		return wrap("revive", err)
	}
	if n == 0 {
		return fmt.Errorf("dead letter %s/%s: %w", queue, key, handlers.ErrNotFound)
	}
	return nil
}
