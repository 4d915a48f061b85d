package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"policybot/handlers"
)

// A kind K has, all under hash tag {r:K}:
//
//	<p>{r:K}:d:<id>     the record: JSON {"d": data, "i": index entries}
//	<p>{r:K}:all        sorted set of ids (lexicographic)
//	<p>{r:K}:i:<name>   sorted set of "value\x00id" (lexicographic)
//
// The scripts derive index keys from the tagged prefix, so they stay in
// the kind's slot.

func (s *Store) kindPrefix(kind string) string { return s.p + "{r:" + kind + "}:" }

type envelope struct {
	Data  []byte                `json:"d"`
	Index []handlers.IndexEntry `json:"i"`
}

func checkNoNUL(what string, vals ...string) error {
	for _, v := range vals {
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("redis store: %s %q contains a NUL byte", what, v)
		}
	}
	return nil
}

var putRecordScript = redis.NewScript(`
local old = redis.call('GET', KEYS[1])
if old then
  local env = cjson.decode(old)
  if type(env.i) == 'table' then
    for _, e in ipairs(env.i) do redis.call('ZREM', ARGV[1] .. e.Name, e.Value .. '\0' .. ARGV[2]) end
  end
end
for i = 4, #ARGV, 2 do redis.call('ZADD', ARGV[1] .. ARGV[i], 0, ARGV[i+1] .. '\0' .. ARGV[2]) end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1`)

var deleteRecordScript = redis.NewScript(`
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local env = cjson.decode(old)
if type(env.i) == 'table' then
  for _, e in ipairs(env.i) do redis.call('ZREM', ARGV[1] .. e.Name, e.Value .. '\0' .. ARGV[2]) end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`)

// PutRecord implements handlers.Records.
func (s *Store) PutRecord(ctx context.Context, kind, id string, data []byte, index ...handlers.IndexEntry) error {
	if kind == "" || id == "" {
		return fmt.Errorf("redis store: empty kind or id")
	}
	if err := checkNoNUL("id", kind, id); err != nil {
		return err
	}
	if index == nil {
		index = []handlers.IndexEntry{}
	}
	env, err := json.Marshal(envelope{Data: data, Index: index})
	if err != nil {
		return fmt.Errorf("redis store: %w", err)
	}
	kp := s.kindPrefix(kind)
	args := []any{kp + "i:", id, env}
	for _, e := range index {
		if e.Name == "" {
			return fmt.Errorf("redis store: empty index name")
		}
		if err := checkNoNUL("index", e.Name, e.Value); err != nil {
			return err
		}
		args = append(args, e.Name, e.Value)
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return wrap("put record", putRecordScript.Run(ctx, s.c, []string{kp + "d:" + id, kp + "all"}, args...).Err())
}

// GetRecord implements handlers.Records.
func (s *Store) GetRecord(ctx context.Context, kind, id string) ([]byte, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	raw, err := s.c.Get(ctx, s.kindPrefix(kind)+"d:"+id).Bytes()
	if err != nil {
		return nil, wrap("get record "+kind+"/"+id, err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("redis store: record %s/%s is unreadable: %w", kind, id, err)
	}
	if env.Data == nil {
		env.Data = []byte{}
	}
	return env.Data, nil
}

// getRecordsChunk bounds one MGET.
const getRecordsChunk = 1000

// GetRecords implements handlers.Records: MGET in chunks (every key of a
// kind is in one hash slot, so this works on a Cluster too).
func (s *Store) GetRecords(ctx context.Context, kind string, ids []string) ([][]byte, error) {
	out := make([][]byte, len(ids))
	kp := s.kindPrefix(kind)
	for start := 0; start < len(ids); start += getRecordsChunk {
		end := min(start+getRecordsChunk, len(ids))
		keys := make([]string, 0, end-start)
		for _, id := range ids[start:end] {
			keys = append(keys, kp+"d:"+id)
		}
		cctx, cancel := s.ctx(ctx)
		vals, err := s.c.MGet(cctx, keys...).Result()
		cancel()
		if err != nil {
			return nil, wrap("get records "+kind, err)
		}
		for i, v := range vals {
			str, ok := v.(string)
			if !ok {
				continue
			}
			var env envelope
			if err := json.Unmarshal([]byte(str), &env); err != nil {
				return nil, fmt.Errorf("redis store: record %s/%s is unreadable: %w", kind, ids[start+i], err)
			}
			if env.Data == nil {
				env.Data = []byte{}
			}
			out[start+i] = env.Data
		}
	}
	return out, nil
}

// DeleteRecord implements handlers.Records.
func (s *Store) DeleteRecord(ctx context.Context, kind, id string) error {
	kp := s.kindPrefix(kind)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return wrap("delete record", deleteRecordScript.Run(ctx, s.c, []string{kp + "d:" + id, kp + "all"}, kp+"i:", id).Err())
}

// LookupRecords implements handlers.Records.
func (s *Store) LookupRecords(ctx context.Context, kind, index, value string) ([]string, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	members, err := s.c.ZRangeByLex(ctx, s.kindPrefix(kind)+"i:"+index, &redis.ZRangeBy{
		Min: "[" + value + "\x00", Max: "(" + value + "\x01",
	}).Result()
	if err != nil {
		return nil, wrap("lookup records", err)
	}
	ids := make([]string, 0, len(members))
	for _, m := range members {
		ids = append(ids, m[len(value)+1:])
	}
	return ids, nil
}

// RangeRecords implements handlers.Records.
func (s *Store) RangeRecords(ctx context.Context, kind, index, from, to string, limit int) ([]handlers.IndexHit, error) {
	by := &redis.ZRangeBy{Min: "[" + from, Max: "+"}
	if to != "" {
		by.Max = "(" + to
	}
	if limit > 0 {
		by.Count = int64(limit)
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	members, err := s.c.ZRangeByLex(ctx, s.kindPrefix(kind)+"i:"+index, by).Result()
	if err != nil {
		return nil, wrap("range records", err)
	}
	hits := make([]handlers.IndexHit, 0, len(members))
	for _, m := range members {
		i := strings.IndexByte(m, 0)
		if i < 0 {
			continue
		}
		hits = append(hits, handlers.IndexHit{Value: m[:i], ID: m[i+1:]})
	}
	return hits, nil
}

// ListRecords implements handlers.Records.
func (s *Store) ListRecords(ctx context.Context, kind, afterID string, limit int) ([]string, error) {
	by := &redis.ZRangeBy{Min: "-", Max: "+"}
	if afterID != "" {
		by.Min = "(" + afterID
	}
	if limit > 0 {
		by.Count = int64(limit)
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	ids, err := s.c.ZRangeByLex(ctx, s.kindPrefix(kind)+"all", by).Result()
	if err != nil {
		return nil, wrap("list records", err)
	}
	return ids, nil
}
