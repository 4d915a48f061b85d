package knowledge

import (
	"strings"
	"testing"
)

// A refusal that came close offers the likely topics (猜你想问); a
// chosen one is answered whole, and a refusal far off offers none.
func TestChoicesOnACloseRefusal(t *testing.T) {
	b := mustDefault(t)
	close := b.Answer("易地搬迁分的房子能租出去吗") // the documents say nothing of renting
	if close.Answered || len(close.Choices) < 2 || len(close.Choices) > 3 {
		t.Fatalf("a close refusal: answered %v, %d choices (score %.2f)", close.Answered, len(close.Choices), close.Score)
	}
	for _, c := range close.Choices {
		if !strings.Contains(c.Label, "（《") || strings.HasPrefix(c.Label, "2、") {
			t.Errorf("label %q", c.Label)
		}
		a, ok := b.SectionAnswer(c.File, c.Section)
		if !ok || !a.Answered || !strings.Contains(a.Text, "来源:《") || !strings.Contains(a.Text, c.Section) {
			t.Errorf("section %q: %+v", c.Section, a)
		}
	}
	if a := b.Answer("明天县城天气怎么样"); a.Answered || len(a.Choices) > 0 {
		t.Errorf("a question far off offered %+v", a.Choices)
	}
	if a := b.Answer("四类人员有哪些"); !a.Answered || len(a.Choices) > 0 {
		t.Errorf("an answer offered choices: %+v", a.Choices)
	}
	if _, ok := b.SectionAnswer("000_0f4e317a7dc85b4e.txt", "九、没有这一节"); ok {
		t.Error("an unknown section was answered")
	}
}
