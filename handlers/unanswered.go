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

// RecordUnanswered implements UnansweredLog. A question from a message
// already recorded (the same Message) is not recorded again.
func (s StoreUnanswered) RecordUnanswered(ctx context.Context, q UnansweredQuestion) error {
	b, err := json.Marshal(q)
	if err != nil {
		return err
	}
	idx := []IndexEntry{{Name: "day", Value: q.Time.Format("2006-01-02")}}
	if q.Message != "" {
		mk := UserHash(q.Message) // the message id holds the openid
		if ids, err := s.Records.LookupRecords(ctx, KindUnanswered, "msg", mk); err == nil && len(ids) > 0 {
			return nil
		}
		idx = append(idx, IndexEntry{Name: "msg", Value: mk})
	}
	id := fmt.Sprintf("%019d-%s", q.Time.UnixNano(), q.User)
	if err := s.Records.PutRecord(ctx, KindUnanswered, id, b, idx...); err != nil {
		return fmt.Errorf("handlers: record unanswered question: %w", err)
	}
	return nil
}
