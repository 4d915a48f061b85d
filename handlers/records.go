package handlers

import (
	"context"
	"encoding/json"
	"fmt"
)

// Typed reads and writes of JSON records, for every handler.

// getJSON reads one record as a T.
func getJSON[T any](ctx context.Context, st Records, kind, id string) (T, error) {
	var v T
	b, err := st.GetRecord(ctx, kind, id)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("%s/%s unreadable: %w", kind, id, err)
	}
	return v, nil
}

// putJSON writes v as one record with its index entries.
func putJSON(ctx context.Context, st Records, kind, id string, v any, idx ...IndexEntry) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := st.PutRecord(ctx, kind, id, b, idx...); err != nil {
		return fmt.Errorf("store %s/%s: %w", kind, id, err)
	}
	return nil
}

// allJSON reads the records ids as Ts, skipping those that are gone.
func allJSON[T any](ctx context.Context, st Records, kind string, ids []string) ([]T, error) {
	data, err := st.GetRecords(ctx, kind, ids)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(data))
	for i, d := range data {
		if d == nil {
			continue
		}
		var v T
		if err := json.Unmarshal(d, &v); err != nil {
			return nil, fmt.Errorf("%s/%s unreadable: %w", kind, ids[i], err)
		}
		out = append(out, v)
	}
	return out, nil
}
