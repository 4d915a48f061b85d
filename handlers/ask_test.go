package handlers

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"policybot/knowledge"
)

type recordingLog struct {
	mu   sync.Mutex
	got  []UnansweredQuestion
	fail error
}

func (r *recordingLog) RecordUnanswered(_ context.Context, q UnansweredQuestion) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, q)
	return nil
}

func mustKB(t *testing.T) *knowledge.Base {
	t.Helper()
	kb, problems, err := knowledge.Load(knowledge.Options{})
	if err != nil || len(problems) > 0 {
		t.Fatalf("load: %v %v", err, problems)
	}
	return kb
}

func TestAskAnswersAndDoesNotRecord(t *testing.T) {
	kb := mustKB(t)
	log := &recordingLog{}
	a := &Asker{KB: func() *knowledge.Base { return kb }, Unanswered: log}
	r := a.Ask(context.Background(), "u1", "四类人员有哪些")
	if !r.Answered || !strings.Contains(r.Text, "财政供养人员") || len(r.Sources) == 0 {
		t.Fatalf("reply = %+v", r)
	}
	if len(log.got) != 0 {
		t.Errorf("an answered question was recorded as unanswered: %+v", log.got)
	}
}

func TestAskRefusesHonestlyAndRecords(t *testing.T) {
	kb := mustKB(t)
	log := &recordingLog{}
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	a := &Asker{KB: func() *knowledge.Base { return kb }, Unanswered: log, Now: func() time.Time { return now }}
	r := a.Ask(context.Background(), "u1", "退耕还林一亩地补多少钱")
	if r.Answered {
		t.Fatalf("answered: %s", r.Text)
	}
	if r.Text != TextUnanswered || len(r.Sources) != 0 {
		t.Errorf("refusal = %+v", r)
	}
	for _, w := range []string{"帮扶责任人", "村委会", "人工"} {
		if !strings.Contains(r.Text, w) {
			t.Errorf("refusal does not point to %s", w)
		}
	}
	if len(log.got) != 1 || log.got[0].Question != "退耕还林一亩地补多少钱" || !log.got[0].Time.Equal(now) || log.got[0].User != UserHash("u1") {
		t.Errorf("recorded = %+v", log.got)
	}
}

// Issue 14.14: the unanswered-question record kept the raw openid (in its
// body and its id). Only the hash is stored.
func TestUnansweredRecordHoldsNoRawOpenID(t *testing.T) {
	kb := mustKB(t)
	st := &memRecords{m: map[string][]byte{}}
	a := &Asker{KB: func() *knowledge.Base { return kb }, Unanswered: StoreUnanswered{Records: st}}
	const raw = "oRAW_OPENID_123"
	if r := a.Ask(context.Background(), raw, "退耕还林一亩地补多少钱"); r.Answered {
		t.Fatal("answered")
	}
	if len(st.m) != 1 {
		t.Fatalf("%d records", len(st.m))
	}
	for id, b := range st.m {
		if strings.Contains(id, raw) || strings.Contains(string(b), raw) {
			t.Fatalf("raw openid stored: %s %s", id, b)
		}
		if !strings.Contains(string(b), UserHash(raw)) {
			t.Fatalf("the hash is missing (questions of one person cannot be grouped): %s", b)
		}
	}
}

// memRecords keeps PutRecord calls and their "msg" index (only what
// StoreUnanswered uses).
type memRecords struct {
	Records
	m   map[string][]byte
	idx map[string][]string
}

func (m *memRecords) PutRecord(_ context.Context, kind, id string, data []byte, idx ...IndexEntry) error {
	m.m[kind+"/"+id] = data
	if m.idx == nil {
		m.idx = map[string][]string{}
	}
	for _, e := range idx {
		m.idx[kind+"/"+e.Name+"/"+e.Value] = append(m.idx[kind+"/"+e.Name+"/"+e.Value], id)
	}
	return nil
}

func (m *memRecords) LookupRecords(_ context.Context, kind, index, value string) ([]string, error) {
	return m.idx[kind+"/"+index+"/"+value], nil
}

func TestAskStillRepliesWhenRecordingFails(t *testing.T) {
	kb := mustKB(t)
	var logged strings.Builder
	a := &Asker{
		KB:         func() *knowledge.Base { return kb },
		Unanswered: &recordingLog{fail: errors.New("disk full")},
		Logger:     slog.New(slog.NewTextHandler(&logged, nil)),
	}
	r := a.Ask(context.Background(), "", "退耕还林一亩地补多少钱")
	if r.Text != TextUnanswered {
		t.Errorf("reply = %q", r.Text)
	}
	if !strings.Contains(logged.String(), "disk full") {
		t.Errorf("the recording failure was not logged: %q", logged.String())
	}
}

func TestAskEmptyQuestion(t *testing.T) {
	kb := mustKB(t)
	log := &recordingLog{}
	a := &Asker{KB: func() *knowledge.Base { return kb }, Unanswered: log}
	for _, q := range []string{"", "   ", "\n"} {
		r := a.Ask(context.Background(), "", q)
		if r.Answered || r.Text != TextEmptyQuestion {
			t.Errorf("Ask(%q) = %+v", q, r)
		}
	}
	if len(log.got) != 0 {
		t.Error("empty questions were recorded")
	}
}

// One message handled twice records its unanswered question once.
func TestUnansweredOncePerMessage(t *testing.T) {
	kb := mustKB(t)
	st := &memRecords{m: map[string][]byte{}}
	a := &Asker{KB: func() *knowledge.Base { return kb }, Unanswered: StoreUnanswered{Records: st}}
	m := Message{User: "oU", Kind: KindText, Text: "退耕还林一亩地补多少钱", ID: "wx:{oU}:msg:9"}
	a.AskMessage(context.Background(), m)
	a.AskMessage(context.Background(), m)
	if len(st.m) != 1 {
		t.Fatalf("%d records for one message", len(st.m))
	}
	m.ID = "wx:{oU}:msg:10"
	a.AskMessage(context.Background(), m)
	if len(st.m) != 2 {
		t.Fatalf("%d records for two messages", len(st.m))
	}
}
