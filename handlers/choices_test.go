package handlers_test

import (
	"context"
	"strings"
	"testing"

	"policybot/handlers"
	"policybot/knowledge"
	"policybot/store/embedded"
)

// 猜你想问: a close refusal offers numbered topics; replying with a number
// answers that topic once; a number with nothing offered is a question.
func TestCloseRefusalOffersTopicsToPick(t *testing.T) {
	kb, _, err := knowledge.Load(knowledge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &handlers.Asker{KB: func() *knowledge.Base { return kb }, Unanswered: handlers.StoreUnanswered{Records: st}, Sessions: st}
	ctx := context.Background()
	r := a.Ask(ctx, "oV", "易地搬迁分的房子能租出去吗")
	if r.Answered || r.Choices < 2 || !strings.HasPrefix(r.Text, handlers.TextChoicesIntro) || !strings.Contains(r.Text, "\n1. ") || !strings.Contains(r.Text, handlers.TextChoicesHow) {
		t.Fatalf("offer = %+v", r)
	}
	if ids, _ := st.ListRecords(ctx, handlers.KindUnanswered, "", 0); len(ids) != 1 {
		t.Errorf("the question was not recorded as unanswered: %d", len(ids))
	}
	picked := a.Ask(ctx, "oV", "２") // typed full-width on a phone
	if !picked.Answered || !strings.Contains(picked.Text, "来源:《") {
		t.Fatalf("pick = %+v", picked)
	}
	if again := a.Ask(ctx, "oV", "2"); again.Answered {
		t.Errorf("a topic was picked twice: %+v", again)
	}
	if other := a.Ask(ctx, "oOther", "1"); other.Answered {
		t.Errorf("another person picked from someone else's topics: %+v", other)
	}
	// without a place to keep them, no topics are offered: a flat refusal
	plain := &handlers.Asker{KB: func() *knowledge.Base { return kb }}
	if r := plain.Ask(ctx, "oV", "易地搬迁分的房子能租出去吗"); r.Text != handlers.TextUnanswered || r.Choices != 0 {
		t.Errorf("without sessions: %+v", r)
	}
}
