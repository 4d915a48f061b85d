package handlers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Disposition is what a delivery pipeline does with a failed send. Errors
// of a channel say it with a Disposition() method; an error without one is
// retried.
type Disposition string

// Dispositions.
const (
	Retry        Disposition = "retry"         // transient (timeouts, 5xx, -1): again later, with backoff
	GiveUp       Disposition = "give_up"       // cannot succeed now (window closed, no permission): recorded as failed
	Bury         Disposition = "bury"          // wrong in itself (bad openid, bad template): dead letter with the reason
	WaitTomorrow Disposition = "wait_tomorrow" // a daily quota is used up: again after midnight
	NotFollowing Disposition = "not_following" // the person unfollowed: mark them and stop
)

// DispositionOf reads err's disposition (Retry when it has none).
func DispositionOf(err error) Disposition {
	var d interface{ Disposition() Disposition }
	if errors.As(err, &d) {
		return d.Disposition()
	}
	return Retry
}

// KindDelivery records the outcome of each queued message (id: the queue
// key; index "status" = sent|delivered|failed|dead, "day", and "msgid" for
// template messages, which TEMPLATESENDJOBFINISH later confirms).
const KindDelivery = "delivery"

// Delivery is the record of one message's outcome.
type Delivery struct {
	Key      string    `json:"key"`
	To       string    `json:"to"`
	Kind     string    `json:"kind"`
	Channel  string    `json:"channel,omitempty"` // template, custom
	Status   string    `json:"status"`            // sent, delivered (confirmed), failed, dead
	Reason   string    `json:"reason,omitempty"`
	Attempts int       `json:"attempts"`
	MsgID    string    `json:"msgid,omitempty"`
	At       time.Time `json:"at"`
}

// PutDelivery stores a delivery record with its indexes.
func PutDelivery(ctx context.Context, rec Records, d Delivery) error {
	idx := []IndexEntry{{Name: "status", Value: d.Status}, {Name: "day", Value: d.At.Format("2006-01-02")}}
	if d.MsgID != "" {
		idx = append(idx, IndexEntry{Name: "msgid", Value: d.MsgID})
	}
	return putJSON(ctx, rec, KindDelivery, d.Key, d, idx...)
}

// GetDelivery returns a delivery record, or ErrNotFound.
func GetDelivery(ctx context.Context, rec Records, key string) (Delivery, error) {
	return getJSON[Delivery](ctx, rec, KindDelivery, key)
}

// Deliveries are the last n delivery records with a status (sent,
// delivered, failed, dead), newest first; a record that cannot be read is
// left out.
func Deliveries(ctx context.Context, rec Records, status string, n int) ([]Delivery, error) {
	ids, err := rec.LookupRecords(ctx, KindDelivery, "status", status)
	if err != nil {
		return nil, err
	}
	if len(ids) > n {
		ids = ids[len(ids)-n:]
	}
	var out []Delivery
	for _, id := range ids {
		if d, err := GetDelivery(ctx, rec, id); err == nil {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out, nil
}

// MarkNotFollowing records that openid no longer follows the account
// (a send said 43004), as the unsubscribe event does.
func MarkNotFollowing(ctx context.Context, rec Records, openid string, at time.Time) error {
	return putFollower(ctx, rec, Follower{OpenID: openid, Following: false, Changed: at})
}

// TemplateFinishIntent records WeChat's report on a template message
// (TEMPLATESENDJOBFINISH, key "msgid:status") in its delivery record, and
// keeps the event.
func TemplateFinishIntent(rec Records) Intent {
	record := RecordEventIntent(rec)
	return IntentFunc(func(ctx context.Context, m Message) (Response, error) {
		if _, err := record.Handle(ctx, m); err != nil {
			return Response{}, err
		}
		msgid, status, _ := strings.Cut(m.EventKey, ":")
		if msgid == "" {
			return Response{}, nil
		}
		ids, err := rec.LookupRecords(ctx, KindDelivery, "msgid", msgid)
		if err != nil || len(ids) == 0 {
			return Response{}, err
		}
		d, err := GetDelivery(ctx, rec, ids[0])
		if err != nil {
			return Response{}, err
		}
		if status == "success" {
			d.Status, d.Reason = "delivered", ""
		} else {
			d.Status, d.Reason = "failed", "TEMPLATESENDJOBFINISH: "+status
		}
		if err := PutDelivery(ctx, rec, d); err != nil {
			return Response{}, fmt.Errorf("handlers: template report: %w", err)
		}
		return Response{}, nil
	})
}
