package handlers

import (
	"context"
	"encoding/json"
	"fmt"
)

// KindUnanswered is the record kind of unanswered questions: id is
// time-ordered, index "day" (2006-01-02) for the console's queue.
const KindUnanswered = "unanswered"

// StoreUnanswered records unanswered questions in the store, where every
// instance's questions meet and officials can turn them into FAQ entries.
type StoreUnanswered struct {
	Records Records
}

// RecordUnanswered implements UnansweredLog.
func (s StoreUnanswered) RecordUnanswered(ctx context.Context, q UnansweredQuestion) error {
	b, err := json.Marshal(q)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("%019d-%s", q.Time.UnixNano(), q.User)
	if err := s.Records.PutRecord(ctx, KindUnanswered, id, b, IndexEntry{Name: "day", Value: q.Time.Format("2006-01-02")}); err != nil {
		return fmt.Errorf("handlers: record unanswered question: %w", err)
	}
	return nil
}
