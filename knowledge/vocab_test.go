package knowledge

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// Issue 13.4: the vocabulary is data that a --kb folder extends, on a
// corpus of its own: a unit, a cue and a dialect stop word nobody built in.
func TestVocabularyIsExtendedByAKnowledgeFolder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("化肥.txt", "某县农资补贴办法\n\n一、补贴标准\n\n每户每年最多领取化肥50千克，分3次领取。\n\n二、发放时间\n\n每年3月发放。\n")
	load := func() *Base {
		b, problems, err := Load(Options{NoDefault: true, Dirs: []string{dir}})
		if err != nil || len(problems) > 0 {
			t.Fatalf("load: %v %v", err, problems)
		}
		return b
	}
	const q = "每户能领多少公斤化肥"
	before := load()
	if w := before.vocab.wantOf(Normalize(q)); w.unit != "" {
		t.Fatalf("before the extension, %s asks for unit %q", q, w.unit)
	}
	if w := before.vocab.wantOf("化肥啥子时候发"); w.kind == wantDate {
		t.Fatal("啥子时候 is a date cue before anyone taught it")
	}

	write("农资units.txt", "# 重量\n公斤 = 公斤 千克 斤\n")
	write("方言cues.txt", "[date]\n啥子时候 哪个时候\n[question]\n么子\n")
	write("方言stopwords.txt", "晓得 不晓得\n")
	after := load()
	w := after.vocab.wantOf(Normalize(q))
	if w.kind != wantNumber || w.unit != "公斤" {
		t.Fatalf("with the units file, %s asks for %v %q", q, w.kind, w.unit)
	}
	if !w.satisfiedBy("每户每年最多领取化肥50千克") || w.satisfiedBy("分3次领取") {
		t.Error("50千克 should answer 多少公斤 and 3次 should not")
	}
	if !w.prefersFacts(after.vocab.factsOf("每户每年最多领取化肥50千克")) {
		t.Error("the sentence facts do not know the new unit")
	}
	if w := after.vocab.wantOf("化肥啥子时候发"); w.kind != wantDate {
		t.Errorf("啥子时候 is not read as a date cue: %v", w.kind)
	}
	// 么子 (a question word taught by the file: 什么) makes 能… ask for
	// something, not whether
	const dialect = "化肥补贴能领么子东西"
	if got := after.prepare(dialect).predicateCoverage(""); got != 1 {
		t.Errorf("with [question] 么子, %s is still read as yes/no (%.2f)", dialect, got)
	}
	if got := before.prepare(dialect).predicateCoverage(""); got == 1 {
		t.Error("the test question must read as yes/no before the extension")
	}
	if _, ok := after.analyse("不晓得化肥啥子时候发").terms["晓得"]; ok {
		t.Error("the dialect stop word 晓得 still searches")
	}
	// (a two-passage corpus scores low on retrieval strength: the threshold
	// is the shipped corpus's, so it is opened here)
	if a := after.WithMinConfidence(0.1).Answer("不晓得每户能领多少公斤化肥"); !a.Answered || !strings.Contains(a.Text, "50千克") || a.Features.Coverage < 1 {
		t.Errorf("answer with the extended vocabulary: %+v", a)
	}
	// the default is untouched by one base's extension
	if defaultVocab.units["公斤"] != nil || defaultVocab.stop["晓得"] {
		t.Error("an extension leaked into the embedded vocabulary")
	}

	// a broken file is reported by name and the embedded vocabulary serves
	write("坏cues.txt", "[日期]\n啥时候\n")
	b, problems, err := Load(Options{NoDefault: true, Dirs: []string{dir}})
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0].Error(), "坏cues.txt") {
		t.Fatalf("broken cues file: %v %v", err, problems)
	}
	if b.vocab != defaultVocab {
		t.Error("a broken extension should leave the embedded vocabulary in force")
	}
}

// The literal cue matcher finds what the regular expression of the same
// words finds, on every question of the labelled sets.
func TestLiteralCuesMatchLikeTheRegexp(t *testing.T) {
	files, _ := filepath.Glob("testdata/qa-*.jsonl")
	var questions []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			var it struct{ Q string }
			if json.Unmarshal([]byte(line), &it) == nil && it.Q != "" {
				questions = append(questions, Normalize(it.Q))
			}
		}
	}
	if len(questions) < 300 {
		t.Fatalf("%d questions", len(questions))
	}
	questions = append(questions, "", "到哪天之前以前哪一天", "时候什么时候")
	for section, words := range defaultVocab.cueWords {
		m := defaultVocab.cues[section]
		re := regexp.MustCompile(strings.Join(words, "|"))
		for _, q := range questions {
			if got, want := m.FindAllStringIndex(q, -1), re.FindAllStringIndex(q, -1); !reflect.DeepEqual(got, want) {
				t.Errorf("[%s] %q: matcher %v, regexp %v", section, q, got, want)
			}
			if m.MatchString(q) != re.MatchString(q) {
				t.Errorf("[%s] %q: MatchString differs", section, q)
			}
		}
	}
	if _, ok := defaultVocab.cues["date"].(*literalCues); !ok {
		t.Error("the date cues are plain words and should be matched as such")
	}
	if _, ok := newCueMatcher([]string{"哪些", "哪[一二三]+[类种]"}).(*regexp.Regexp); !ok {
		t.Error("a cue list with a pattern must stay a regular expression")
	}
}
