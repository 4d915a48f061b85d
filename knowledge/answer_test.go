package knowledge

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAnswerCitesItsSource(t *testing.T) {
	b := mustDefault(t)
	a := b.Answer("驻村干部一个月得在村里待几天")
	if !a.Answered {
		t.Fatalf("refused (score %.2f): the documents say 每月住村时间不少于20天", a.Score)
	}
	for _, want := range []string{"20天", "来源:《汨罗市脱贫攻坚突出问题集中整改方案》(汨扶发〔2017〕14号", "三、整改措施 › 3、压实帮扶责任"} {
		if !strings.Contains(a.Text, want) {
			t.Errorf("answer lacks %q:\n%s", want, a.Text)
		}
	}
	if len(a.Sources) == 0 || a.Sources[0].File != "000_0f4e317a7dc85b4e.txt" || a.Sources[0].Quote == "" {
		t.Errorf("sources = %+v", a.Sources)
	}
	for _, md := range []string{"**", "##", "```", "]("} {
		if strings.Contains(a.Text, md) {
			t.Errorf("answer contains Markdown %q", md)
		}
	}
}

func TestRefusesWhatTheDocumentsDoNotSay(t *testing.T) {
	b := mustDefault(t)
	for _, q := range []string{
		"农村低保一个月能领多少钱", // 低保 is in the documents, an amount is not
		"退耕还林一亩地补多少钱",
		"贫困户家孩子上高中免学费不",
		"今天天气怎么样",
		"asdfghjkl",
	} {
		a := b.Answer(q)
		if a.Answered {
			t.Errorf("%s: answered (score %.2f) with\n%s", q, a.Score, a.Text)
		}
		if a.Text != "" {
			t.Errorf("%s: a refusal carries text %q", q, a.Text)
		}
	}
}

func TestAnswerTypeDecidesRefusal(t *testing.T) {
	b := mustDefault(t)
	// The best passage for this question talks about 低保 but holds no
	// amount in 元: the answer-type check must refuse it.
	q := b.analyse("农村低保一个月能领多少钱")
	if q.want.kind != wantNumber || q.want.unit != "钱" {
		t.Fatalf("want = %+v", q.want)
	}
	if q.want.satisfiedBy("纳入低保的对象要及时核查") {
		t.Error("a sentence without an amount satisfies 多少钱")
	}
	if !q.want.satisfiedBy("每人每月发放300元") {
		t.Error("an amount in 元 does not satisfy 多少钱")
	}
}

func TestWantOf(t *testing.T) {
	tests := []struct {
		q    string
		kind answerKind
		unit string
	}{
		{"驻村工作队一个月最少得在村里住多少天", wantNumber, "天"},
		{"乡镇扶贫预算一个人最少安排多少钱", wantNumber, "钱"},
		{"法律援助的困难标准是低保的几倍", wantNumber, "倍"},
		{"扶贫举报电话多少", wantPhone, ""},
		{"县里退出申请最晚几号交", wantDate, ""},
		{"市里初审完啥时候报给省里", wantDate, ""},
		{"我们村重新识别出来几户新的贫困户，该谁上门核实", wantWho, ""},
		{"资金管理组谁牵头", wantWho, ""},
		{"算贫困户收入要算那几块", wantList, ""}, // 那几 typed for 哪几
		{"入户大排查重点盯哪几类人家", wantList, ""},
		{"四类人员有哪些", wantList, ""},
		{"想申请贫困户要走那些步骤", wantList, ""}, // 那些 typed for 哪些
		{"非贫困户觉得不公平来闹意见，咋处理", wantHow, ""},
		{"儿女不管老人怎么办", wantHow, ""},
		{"农村三大革命是哪三样", wantList, ""},
		{"帮扶要搞哪些活动", wantList, ""},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			w := wantOf(Normalize(tt.q))
			if w.kind != tt.kind || w.unit != tt.unit {
				t.Errorf("wantOf = %+v, want kind %d unit %q", w, tt.kind, tt.unit)
			}
		})
	}
}

func TestListAnswersMustEnumerate(t *testing.T) {
	w := want{kind: wantList}
	for _, text := range []string{
		"财政供养人员、有小汽车户、有商品房或商铺户、个体工商户",
		"一是与贫困群众谈一次心。二是梳理一遍帮扶措施。",
		"(1)建立台账;(2)督办落实",
		"护林员、保洁员和护路员",
	} {
		if !w.satisfiedBy(text) {
			t.Errorf("not seen as a list: %s", text)
		}
	}
	for _, text := range []string{
		"对照脱贫攻坚“七个一”网格化责任体系,逐一梳理检查。",
		"每月住村时间不少于20天。",
	} {
		if w.satisfiedBy(text) {
			t.Errorf("seen as a list: %s", text)
		}
	}
	// a "which seven" question whose evidence only names the set is refused
	if a := mustDefault(t).Answer("七个一网格化责任体系是哪七个一"); a.Answered {
		t.Errorf("answered without the list (score %.2f):\n%s", a.Score, a.Text)
	}
}

func TestWhoQuestionLeadsWithTheActor(t *testing.T) {
	a := mustDefault(t).Answer("安全饮水巩固提升归谁推进")
	if !a.Answered || !strings.Contains(a.Text, "由水利站负责") {
		t.Errorf("who-question answered without its actor:\n%s", a.Text)
	}
}

func TestHowToQuestionGetsTheProcedure(t *testing.T) {
	b := mustDefault(t).WithMinConfidence(-1)
	how := b.Answer("非贫困户觉得不公平来闹意见，咋处理")
	plain := b.Answer("非贫困户觉得不公平来闹意见")
	// the procedure's last step is read only because the question asks how
	if !strings.Contains(how.Text, "情绪疏导") {
		t.Errorf("procedure cut short:\n%s", how.Text)
	}
	if strings.Contains(plain.Text, "情绪疏导") {
		t.Errorf("a plain question got the whole procedure, so the test shows nothing:\n%s", plain.Text)
	}
}

func TestTypoRepair(t *testing.T) {
	b := mustDefault(t)
	tests := []struct{ typed, fixed string }{
		{"签子", "签字"},
		{"补帖", "补贴"},
		{"代头", "带头"},
	}
	for _, tt := range tests {
		fixes := b.typo.correct(b.ix, segments(tt.typed)[0])
		if fixes[tt.typed] != tt.fixed {
			t.Errorf("correct(%s) = %v, want %s", tt.typed, fixes, tt.fixed)
		}
	}
	// a correctly typed known word is left alone
	if fixes := b.typo.correct(b.ix, segments("签字")[0]); len(fixes) != 0 {
		t.Errorf("correct(签字) changed a known word: %v", fixes)
	}
	a := b.Answer("帮扶记录要贫困户签子吗")
	if !strings.Contains(a.Text, "签字") {
		t.Errorf("typo question answered without 签字:\n%s", a.Text)
	}
}

func TestStopCharactersInsideWordsAreKept(t *testing.T) {
	b := mustDefault(t)
	q := b.analyse("摘帽申请是哪一级提的")
	if _, ok := q.terms["申请"]; !ok {
		t.Errorf("申请 lost its 请 to the stop list: terms %v", q.terms)
	}
	q = b.analyse("你们就业怎么安排")
	if _, ok := q.terms["就业"]; !ok {
		t.Errorf("就业 lost its 就: terms %v", q.terms)
	}
}

func TestRenderKeepsWithinWeChatLimit(t *testing.T) {
	long := strings.Repeat("这是一句很长的政策原文，用来测试回复长度的上限。", 200)
	text := render([]string{long}, []string{"《某文件》(某文号) 一、总则"})
	if len(text) > MaxReplyBytes {
		t.Fatalf("rendered %d bytes, limit %d", len(text), MaxReplyBytes)
	}
	if !utf8.ValidString(text) {
		t.Fatal("render cut a character in half")
	}
	if !strings.HasSuffix(text, "来源:《某文件》(某文号) 一、总则") {
		t.Errorf("the source line was cut: …%s", text[len(text)-80:])
	}
	if !strings.Contains(text, "上限。\n来源") {
		t.Error("body not trimmed at a sentence boundary")
	}
	// one enormous sentence without punctuation is cut with an ellipsis
	text = render([]string{strings.Repeat("字", 3000)}, []string{"《某文件》"})
	if len(text) > MaxReplyBytes || !strings.Contains(text, "…\n来源") {
		t.Errorf("unpunctuated body: %d bytes", len(text))
	}
}

func TestEveryAnswerFitsTheLimit(t *testing.T) {
	b := mustDefault(t).WithMinConfidence(-1) // answer everything
	for _, it := range devSet(t) {
		a := b.Answer(it.Q)
		if len(a.Text) > MaxReplyBytes {
			t.Errorf("%s: %d bytes", it.ID, len(a.Text))
		}
	}
}

func TestFAQTakesPrecedence(t *testing.T) {
	faq := `[{"id": "hotline", "questions": ["扶贫举报电话是多少号"], "answer": "扶贫监督举报电话是12317。", "file": "002_7f4e662bb716b1da.txt", "section": "二、工作任务"}]`
	dir := mustWrite(t, map[string][]byte{"local.faq.json": []byte(faq)})
	b, problems, err := Load(Options{Dirs: []string{dir}})
	if err != nil || len(problems) > 0 {
		t.Fatalf("load: %v %v", err, problems)
	}
	a := b.Answer("扶贫的举报电话是多少")
	if a.FAQ != "hotline" {
		t.Fatalf("FAQ did not answer a rephrasing (score %.2f): %+v", a.Score, a)
	}
	if !strings.HasPrefix(a.Text, "扶贫监督举报电话是12317。\n来源:《县文化广电系统脱贫攻坚工作情况汇报》") {
		t.Errorf("FAQ text = %q", a.Text)
	}
	if a.Sources[0].Title != "县文化广电系统脱贫攻坚工作情况汇报" {
		t.Errorf("FAQ title not filled from its file: %+v", a.Sources[0])
	}
	// an unrelated question is not captured by the FAQ
	if a := b.Answer("四类人员有哪些"); a.FAQ != "" {
		t.Errorf("unrelated question answered by FAQ %s", a.FAQ)
	}
}

func TestDevQuotesLieWithinOnePassage(t *testing.T) {
	b := mustDefault(t)
	for _, it := range devSet(t) {
		if it.Quote == "" {
			continue
		}
		nq := Normalize(it.Quote)
		found := false
		for _, p := range b.Passages() {
			if p.Doc.File == it.Doc && strings.Contains(Normalize(p.Section()+p.Text), nq) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s: quote split across passages or lost in curation: %s", it.ID, it.Quote)
		}
	}
}

type devItem struct {
	ID, Q, Doc, Quote, Kind string
	Must                    []string
}

func devSet(tb testing.TB) []devItem {
	tb.Helper()
	f, err := os.Open("testdata/qa-dev.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []devItem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var it devItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			tb.Fatal(err)
		}
		out = append(out, it)
	}
	return out
}

func TestConcurrentAnswers(t *testing.T) {
	b := mustDefault(t)
	want := b.Answer("四类人员有哪些").Text
	done := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func() {
			var got string
			for j := 0; j < 50; j++ {
				got = b.Answer("四类人员有哪些").Text
			}
			done <- got
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != want {
			t.Fatalf("concurrent answer differs:\n%s\nvs\n%s", got, want)
		}
	}
}

// The precomputed sentence facts must agree with the regular expressions
// they replace, for every sentence of the corpus and every kind of question.
func TestPrecomputedFactsMatchTheRegexps(t *testing.T) {
	b := mustDefault(t)
	wants := []want{{kind: wantWho}, {kind: wantList}, {kind: wantPhone}, {kind: wantDate}, {kind: wantNumber}}
	for _, u := range unitOrder {
		wants = append(wants, want{kind: wantNumber, unit: u})
	}
	n := 0
	for _, p := range b.Passages() {
		for i, s := range p.Sentences {
			for _, w := range wants {
				if got, want := w.prefersFacts(p.sentFacts[i]), w.prefers(s); got != want {
					t.Fatalf("%+v on %q: facts %v, regexp %v", w, s, got, want)
				}
				n++
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d checks", n)
	}
}

// The term-mask coverage must agree with substring coverage for the
// sentences of the passages questions retrieve.
func TestSentenceCoverageMatchesSubstrings(t *testing.T) {
	b := mustDefault(t)
	checked := 0
	for _, it := range devSet(t) {
		q := b.analyse(it.Q)
		q.resolveForms(b.ix)
		for _, h := range b.ix.search(q.ordered, 5) {
			p := b.passages[h.doc]
			fast := q.sentenceCoverage(p)
			for i := range p.Sentences {
				slow := q.coverage(p.normSentences[i], p.normContext)
				if d := fast[i] - slow; d > 1e-9 || d < -1e-9 {
					t.Fatalf("%s, passage %d sentence %d: masks %.3f, substrings %.3f", it.ID, p.ID, i, fast[i], slow)
				}
				checked++
			}
		}
	}
	if checked < 500 {
		t.Fatalf("only %d sentences checked", checked)
	}
}
