package quiz_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"policybot/knowledge"
	"policybot/quiz"
)

var (
	kbOnce sync.Once
	kb     *knowledge.Base
)

func corpus(t testing.TB) func(string) (string, bool) {
	kbOnce.Do(func() {
		var err error
		kb, _, err = knowledge.Load(knowledge.Options{})
		if err != nil {
			t.Fatal(err)
		}
	})
	return kb.FileText
}

func shippedBank(t testing.TB) *quiz.Bank {
	qs, err := quiz.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	b, err := quiz.NewBank(qs, corpus(t))
	if err != nil {
		t.Fatalf("the shipped bank is invalid:\n%v", err)
	}
	return b
}

// The shipped bank: at least 80 valid questions (every quote occurs
// verbatim in its file, ids unique, one correct option for single choice:
// NewBank checks all of that), from all five documents, all three kinds.
func TestShippedBank(t *testing.T) {
	b := shippedBank(t)
	if b.Len() < 80 {
		t.Errorf("%d questions, want at least 80", b.Len())
	}
	files, kinds, topics := map[string]int{}, map[quiz.Kind]int{}, map[string]int{}
	letters := map[string]int{}
	for _, q := range b.Questions() {
		files[q.File]++
		kinds[q.Kind]++
		topics[q.Topic]++
		if q.Kind == quiz.Single {
			letters[q.Answer]++
		}
		if _, ok := kb.Cite(q.File, q.Quote); !ok {
			t.Errorf("%s: cannot cite %s", q.ID, q.File)
		}
	}
	for _, f := range []string{"000_0f4e317a7dc85b4e.txt", "001_2cc691355be2174d.txt", "002_7f4e662bb716b1da.txt", "003_33f1e043d24211de.txt", "004_b530ba5c5fc5fc4c.txt"} {
		if files[f] < 8 {
			t.Errorf("%s has %d questions; every document needs a fair share", f, files[f])
		}
	}
	if kinds[quiz.Single] == 0 || kinds[quiz.Multi] == 0 || kinds[quiz.Judge] == 0 {
		t.Errorf("kinds %v: want all three", kinds)
	}
	// guessing one letter must not pay: no letter is right for more than
	// 40% of single-choice questions
	for l, n := range letters {
		if n*10 > kinds[quiz.Single]*4 {
			t.Errorf("answer %s is right for %d of %d single-choice questions", l, n, kinds[quiz.Single])
		}
	}
	if len(topics) < 8 {
		t.Errorf("only %d topics: %v", len(topics), topics)
	}
}

func TestValidateFindsEveryProblem(t *testing.T) {
	good := quiz.Question{ID: "X1", Kind: quiz.Single, Stem: "驻村多少天？", Options: []string{"10天", "20天"}, Answer: "B",
		Explanation: "不少于20天。", File: "000_0f4e317a7dc85b4e.txt", Quote: "按省定每月不少于20天", Topic: "驻村", Difficulty: 1}
	if errs := quiz.Validate([]quiz.Question{good}, corpus(t)); len(errs) != 0 {
		t.Fatalf("a good question was refused: %v", errs)
	}
	cases := map[string]func(q *quiz.Question){
		"quote":                     func(q *quiz.Question) { q.Quote = "每月不少于15天" },
		"not in the knowledge base": func(q *quiz.Question) { q.File = "nosuch.txt" },
		"exactly one":               func(q *quiz.Question) { q.Answer = "AB" },
		"letters":                   func(q *quiz.Question) { q.Answer = "C" },
		"options":                   func(q *quiz.Question) { q.Options = q.Options[:1]; q.Answer = "A" },
		"at least two":              func(q *quiz.Question) { q.Kind = quiz.Multi },
		"no options":                func(q *quiz.Question) { q.Kind = quiz.Judge; q.Answer = "对" },
		"not 对 or 错":                func(q *quiz.Question) { q.Kind = quiz.Judge; q.Options = nil; q.Answer = "B" },
		"kind":                      func(q *quiz.Question) { q.Kind = "essay" },
		"difficulty":                func(q *quiz.Question) { q.Difficulty = 4 },
		"explanation":               func(q *quiz.Question) { q.Explanation = " " },
		"empty id":                  func(q *quiz.Question) { q.ID = "" },
	}
	for want, breakIt := range cases {
		q := good
		q.Options = append([]string(nil), good.Options...)
		breakIt(&q)
		errs := quiz.Validate([]quiz.Question{q}, corpus(t))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), want) {
			t.Errorf("%s: got %v", want, errs)
		}
	}
	if errs := quiz.Validate([]quiz.Question{good, good}, corpus(t)); len(errs) != 1 || !strings.Contains(errs[0].Error(), "duplicate") {
		t.Errorf("duplicate ids: %v", errs)
	}
}

func TestParseAnswer(t *testing.T) {
	single := quiz.Question{Kind: quiz.Single, Options: []string{"a", "b", "c", "d"}, Answer: "B"}
	multi := quiz.Question{Kind: quiz.Multi, Options: []string{"a", "b", "c", "d"}, Answer: "AC"}
	judge := quiz.Question{Kind: quiz.Judge, Answer: quiz.True}
	cases := []struct {
		q    quiz.Question
		in   string
		want string
		err  error
	}{
		{single, "B", "B", nil}, {single, "b", "B", nil}, {single, "Ｂ", "B", nil}, {single, "ｂ", "B", nil},
		{single, " b。", "B", nil}, {single, "选B", "B", nil}, {single, "我选 b", "B", nil}, {single, "答案：C", "C", nil},
		{single, "AB", "", quiz.ErrBadAnswer}, {single, "E", "", quiz.ErrBadAnswer}, {single, "对", "", quiz.ErrBadAnswer},
		{single, "驻村干部一个月待几天", "", quiz.ErrNotAnswer}, {single, "", "", quiz.ErrNotAnswer}, {single, "ok", "", quiz.ErrNotAnswer},
		{multi, "AC", "AC", nil}, {multi, "a c", "AC", nil}, {multi, "CA", "AC", nil}, {multi, "A,C", "AC", nil}, {multi, "A、C", "AC", nil},
		{multi, "ａｃ", "AC", nil}, {multi, "A", "A", nil}, {multi, "B", "B", nil}, {multi, "对", "", quiz.ErrBadAnswer}, {multi, "ACE", "", quiz.ErrBadAnswer},
		{multi, "不知道", "", quiz.ErrSkip}, {judge, "跳过", "", quiz.ErrSkip}, {single, "不会", "", quiz.ErrSkip},
		{judge, "对", quiz.True, nil}, {judge, "错", quiz.False, nil}, {judge, "√", quiz.True, nil}, {judge, "×", quiz.False, nil},
		{judge, "对的", quiz.True, nil}, {judge, "错误", quiz.False, nil}, {judge, "a", quiz.True, nil}, {judge, "B", quiz.False, nil},
		{judge, "C", "", quiz.ErrBadAnswer}, {judge, "什么是低保", "", quiz.ErrNotAnswer},
	}
	for _, c := range cases {
		got, err := quiz.ParseAnswer(c.q, c.in)
		if got != c.want || !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s %q → %q, %v; want %q, %v", c.q.Kind, c.in, got, err, c.want, c.err)
		}
	}
	for _, s := range []string{"A", "ac", "对", "×", "选C"} {
		if !quiz.LooksLikeAnswer(s) {
			t.Errorf("%q does not look like an answer", s)
		}
	}
	for _, s := range []string{"低保怎么申请", "你好", "更多", "答题", "退出"} {
		if quiz.LooksLikeAnswer(s) {
			t.Errorf("%q looks like an answer", s)
		}
	}
}

func TestPickRoundPrefersUnanswered(t *testing.T) {
	b := shippedBank(t)
	done := map[string]bool{}
	for _, q := range b.Questions()[:b.Len()-3] {
		done[q.ID] = true
	}
	ids := quiz.PickRound(b, done, 5, rand.New(rand.NewPCG(1, 2)))
	if len(ids) != 5 {
		t.Fatalf("got %d ids", len(ids))
	}
	fresh := 0
	seen := map[string]bool{}
	for _, id := range ids {
		if !done[id] {
			fresh++
		}
		if seen[id] {
			t.Errorf("%s twice in a round", id)
		}
		seen[id] = true
	}
	if fresh != 3 {
		t.Errorf("%d of the 3 unanswered questions were picked: %v", fresh, ids)
	}
	if ids := quiz.PickRound(b, nil, 5, rand.New(rand.NewPCG(1, 2))); len(ids) != 5 {
		t.Errorf("first round: %v", ids)
	}
}

func TestDailyIDCyclesThroughTheBank(t *testing.T) {
	b := shippedBank(t)
	seen := map[string]bool{}
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for i := 0; i < b.Len(); i++ {
		id := quiz.DailyID(b, day.AddDate(0, 0, i))
		if seen[id] {
			t.Fatalf("day %d repeats %s before the bank is used up", i, id)
		}
		seen[id] = true
	}
}

// A seeded data set whose figures were computed by hand.
func TestBuildReportByHand(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	mon := time.Date(2026, 11, 16, 10, 0, 0, 0, loc) // ISO week 47
	nextMon := mon.AddDate(0, 0, 7)                  // week 48
	a := func(u, name, q, topic string, ok bool, at time.Time, vil, town, role string) quiz.AnswerRecord {
		return quiz.AnswerRecord{User: u, Name: name, QID: q, Topic: topic, Correct: ok, At: at, Village: vil, Town: town, Role: role}
	}
	answers := []quiz.AnswerRecord{
		a("u1", "张三", "Q1", "识别", true, mon, "金家村", "马街镇", ""),
		a("u1", "张三", "Q2", "帮扶", false, mon, "金家村", "马街镇", ""),
		a("u2", "李四", "Q1", "识别", true, mon.Add(time.Hour), "金家村", "马街镇", "帮扶责任人"),
		a("u2", "李四", "Q3", "帮扶", true, mon.Add(time.Hour), "金家村", "马街镇", "帮扶责任人"),
		a("u3", "", "Q1", "识别", false, nextMon, "上谷村", "马街镇", ""),
		a("u4", "", "Q2", "帮扶", true, nextMon, "", "", ""),
		a("u5", "王五", "Q1", "识别", true, mon.AddDate(0, 0, -30), "金家村", "马街镇", ""), // before the period
	}
	from := time.Date(2026, 11, 16, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 14)
	rep := quiz.BuildReport(answers, from, to, "", loc, nil)
	check := func(name string, r quiz.Row, participants, n, correct int) {
		t.Helper()
		if r.Participants != participants || r.Answers != n || r.Correct != correct {
			t.Errorf("%s %s: %d people, %d answers, %d correct; want %d, %d, %d", name, r.Key, r.Participants, r.Answers, r.Correct, participants, n, correct)
		}
	}
	check("total", rep.Total, 4, 6, 4)
	if rep.Total.Rate < 0.666 || rep.Total.Rate > 0.667 {
		t.Errorf("rate %v, want 4/6", rep.Total.Rate)
	}
	rows := func(rs []quiz.Row) map[string]quiz.Row {
		m := map[string]quiz.Row{}
		for _, r := range rs {
			m[r.Key] = r
		}
		return m
	}
	q := rows(rep.ByQuestion)
	check("question", q["Q1"], 3, 3, 2)
	check("question", q["Q2"], 2, 2, 1)
	check("question", q["Q3"], 1, 1, 1)
	v := rows(rep.ByVillage)
	check("village", v["马街镇/金家村"], 2, 4, 3)
	check("village", v["马街镇/上谷村"], 1, 1, 0)
	check("village", v["未设置/未设置"], 1, 1, 1)
	check("town", rows(rep.ByTown)["马街镇"], 3, 5, 3)
	r := rows(rep.ByRole)
	check("role", r["帮扶责任人"], 1, 2, 2)
	check("role", r[quiz.DefaultRole], 3, 4, 2)
	w := rows(rep.ByWeek)
	check("week", w["2026-W47"], 2, 4, 3)
	check("week", w["2026-W48"], 2, 2, 1)
	check("topic", rows(rep.ByTopic)["帮扶"], 3, 3, 2)
	want := "2026-W47 金家村 1 李* 2|2026-W47 金家村 2 张* 1|2026-W48 上谷村 1 " + quiz.MaskName("", "u3") + " 0"
	var got []string
	for _, l := range rep.Leaders {
		got = append(got, fmt.Sprintf("%s %s %d %s %d", l.Week, l.Village, l.Rank, l.Name, l.Score))
	}
	if strings.Join(got, "|") != want {
		t.Errorf("leaders\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	if one := quiz.BuildReport(answers, from, to, "上谷村", loc, nil); one.Total.Answers != 1 {
		t.Errorf("village filter: %d answers", one.Total.Answers)
	}
}

func workbook(t *testing.T, rows [][]any) *bytes.Buffer {
	t.Helper()
	f := excelize.NewFile()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func header() []any {
	out := []any{}
	for _, c := range quiz.Columns {
		out = append(out, c)
	}
	return out
}

func TestReadXLSXReportsEveryBadRow(t *testing.T) {
	f0 := "000_0f4e317a7dc85b4e.txt"
	rows := [][]any{header(),
		{"C1", "单选", "驻村多少天？", "10天", "20天", "", "", "", "", "b", "不少于20天。", f0, "按省定每月不少于20天", "驻村", 1},
		{"C2", "多选", "四类人员？", "财政供养人员", "有小汽车户", "低保户", "", "", "", "A,B", "见原文。", f0, "有小汽车户由交警大队比对", "识别", "2"},
		{"C3", "判断", "扶贫专干3年内不得随意变动。", "", "", "", "", "", "", "对", "见原文。", f0, "乡镇扶贫专干3年内不得随意变动", "帮扶", 1},
		{},
		{"C4", "单选", "编造的题", "甲", "乙", "", "", "", "", "A", "解析", f0, "每月驻村不少于15天", "驻村", 1}, // quote not in file
		{"C1", "判断", "重复编号", "", "", "", "", "", "", "对", "解析", f0, "按省定每月不少于20天", "驻村", 1},
		{"C6", "问答", "类型错", "", "", "", "", "", "", "对", "解析", f0, "按省定每月不少于20天", "驻村", 1},
		{"Q001", "判断", "占用内置编号", "", "", "", "", "", "", "对", "解析", f0, "按省定每月不少于20天", "驻村", 1},
		{"C8", "单选", "两个答案", "甲", "乙", "", "", "", "", "AB", "解析", f0, "按省定每月不少于20天", "驻村", 1},
		{"C9", "单选", "难度错", "甲", "乙", "", "", "", "", "A", "解析", f0, "按省定每月不少于20天", "驻村", "难"},
	}
	qs, bad, err := quiz.ReadXLSX(workbook(t, rows), corpus(t), map[string]bool{"Q001": true})
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, e := range bad {
		lines = append(lines, e.Row)
	}
	if fmt.Sprint(lines) != "[6 7 8 9 10 11]" {
		t.Errorf("bad rows %v, want [6 7 8 9 10 11]:\n%v", lines, bad)
	}
	if len(qs) != 3 || qs[0].Answer != "B" || qs[1].Answer != "AB" || qs[1].Kind != quiz.Multi || qs[2].Answer != quiz.True {
		t.Errorf("good rows read as %+v", qs)
	}
	if !strings.Contains(bad[0].Error(), "第 6 行") {
		t.Errorf("error does not name the row: %v", bad[0])
	}
	if _, _, err := quiz.ReadXLSX(strings.NewReader("not a workbook"), corpus(t), nil); err == nil {
		t.Error("garbage was read as a workbook")
	}
	if _, _, err := quiz.ReadXLSX(workbook(t, [][]any{{"编号", "题目"}}), corpus(t), nil); err == nil || !strings.Contains(err.Error(), "类型") {
		t.Errorf("missing columns: %v", err)
	}
}

// WriteXLSX is the import format: the shipped bank written out and read
// back is the same bank.
func TestXLSXRoundTrip(t *testing.T) {
	b := shippedBank(t)
	var buf bytes.Buffer
	if err := quiz.WriteXLSX(&buf, b.Questions()); err != nil {
		t.Fatal(err)
	}
	qs, bad, err := quiz.ReadXLSX(&buf, corpus(t), nil)
	if err != nil || len(bad) > 0 {
		t.Fatalf("%v %v", err, bad)
	}
	if fmt.Sprintf("%+v", qs) != fmt.Sprintf("%+v", b.Questions()) {
		t.Error("the bank changed on its way through a spreadsheet")
	}
}

func TestReportXLSXOpensWithTheFigures(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 11, 17, 9, 0, 0, 0, loc)
	answers := []quiz.AnswerRecord{
		{User: "u1", Name: "张三", QID: "Q001", Topic: "驻村", Correct: true, At: at, Village: "金家村", Town: "马街镇"},
		{User: "u2", QID: "Q001", Topic: "驻村", Correct: false, At: at, Village: "金家村", Town: "马街镇"},
	}
	rep := quiz.BuildReport(answers, at.Truncate(24*time.Hour), at.AddDate(0, 0, 7), "", loc, shippedBank(t))
	var buf bytes.Buffer
	if err := quiz.WriteReportXLSX(&buf, rep); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); fmt.Sprint(got) != "[概览 按题目 按主题 按村 按乡镇 按角色 按周 周排行]" {
		t.Errorf("sheets %v", got)
	}
	rows, _ := f.GetRows("按题目")
	if len(rows) != 2 || rows[1][0] != "Q001" || !strings.Contains(rows[1][1], "驻村") || rows[1][2] != "2" || rows[1][4] != "1" || rows[1][5] != "50.00%" {
		t.Errorf("按题目 = %q", rows)
	}
	lead, _ := f.GetRows("周排行")
	if len(lead) != 3 || lead[1][4] != "张*" {
		t.Errorf("周排行 = %q", lead)
	}
}

// A question sheet past MaxRows is refused (in Chinese) before it is read
// whole, as roster sheets are (issue 14.10).
func TestReadXLSXRefusesAHugeSheet(t *testing.T) {
	f := excelize.NewFile()
	sw, _ := f.NewStreamWriter("Sheet1")
	sw.SetRow("A1", []any{"编号", "类型", "题目"})
	for i := 0; i < quiz.MaxRows+10; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{fmt.Sprint("q", i), "判断", "题"})
	}
	sw.Flush()
	var buf bytes.Buffer
	f.Write(&buf)
	_, _, err := quiz.ReadXLSX(&buf, func(string) (string, bool) { return "", false }, nil)
	if err == nil || !strings.Contains(err.Error(), "超过 5000 行") {
		t.Fatalf("ReadXLSX = %v", err)
	}
}

// Issue 15.7: a villager's round is about their own life: questions for
// households come first, then those for everyone; staff get theirs.
func TestPickRoundPrefersTheAudience(t *testing.T) {
	b := shippedBank(t)
	households := 0
	for _, q := range b.Questions() {
		if q.Audience == quiz.AudienceHousehold {
			households++
		}
	}
	if households < 10 {
		t.Fatalf("%d household questions in the bank, want at least 10", households)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	ids := quiz.PickRound(b, nil, 5, rnd, quiz.AudienceHousehold)
	for _, id := range ids {
		if q, _ := b.Get(id); q.Audience != quiz.AudienceHousehold {
			t.Errorf("a villager's round holds %s (%q, for %q)", id, q.Stem, q.Audience)
		}
	}
	for _, id := range quiz.PickRound(b, nil, 5, rnd, quiz.AudienceStaff) {
		if q, _ := b.Get(id); q.Audience == quiz.AudienceHousehold {
			t.Errorf("a staff round begins with a household question while others remain: %s", id)
		}
	}
}
