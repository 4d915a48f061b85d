package knowledge

import (
	"strings"
	"testing"
)

// loadOnly builds a knowledge base from the given files alone.
func loadOnly(t *testing.T, files MemFS) *Base {
	t.Helper()
	b, problems, err := Load(Options{NoDefault: true, Extra: files})
	if err != nil || len(problems) > 0 {
		t.Fatalf("load: %v %v", err, problems)
	}
	return b
}

// A passage that covers the whole question wins over one that BM25 likes
// better because it repeats one of the question's words.
func TestRerankPrefersThePassageThatCoversTheQuestion(t *testing.T) {
	b := loadOnly(t, MemFS{
		"a.txt": []byte("一、牵头单位\n市扶贫办督办整改。市扶贫办核查整改。市扶贫办验收整改。\n" +
			"二、信息上报\n" + strings.Repeat("各单位要建立工作台帐,确保底子清,坚持边排查边落实。", 4) +
			"各乡镇的整改情况在6月10日之前报市扶贫办。\n" +
			"三、饮水安全\n农村饮水安全巩固提升由水利站负责。\n四、住房保障\n危房改造补助资金全额落实到户。\n" +
			"五、教育资助\n落实教育资助政策,杜绝因贫辍学。\n六、医疗保障\n落实先诊疗后付费。\n"),
	}).WithMinConfidence(-1)
	q := b.analyse("乡镇整改情况啥时候报给市扶贫办")
	q.resolveForms(b.ix)
	hits := b.ix.search(q.ordered, rerankPool)
	if strings.Contains(b.passages[hits[0].doc].Text, "6月10日") {
		t.Fatal("BM25 alone finds the date first: the test shows nothing")
	}
	reranked := b.rerank(q, hits, hits[0].score)
	if !strings.Contains(b.passages[reranked[0].doc].Text, "6月10日") {
		t.Fatalf("reranked first: %s", b.passages[reranked[0].doc].Text)
	}
	if a := b.Answer("乡镇整改情况啥时候报给市扶贫办"); !strings.Contains(a.Text, "6月10日") {
		t.Errorf("answer lacks the date:\n%s", a.Text)
	}
}

func unitForms(q *query) string {
	var s []string
	for _, u := range q.units {
		s = append(s, strings.Join(u.forms, "/"))
	}
	return strings.Join(s, " | ")
}

// 哪一级, 哪三样, 哪几类 say what shape the answer has, not what it is about.
func TestQuestionPhrasesAreNotContent(t *testing.T) {
	b := mustDefault(t)
	for q, bad := range map[string]string{
		"摘帽申请是哪一级提的":  "级",
		"农村三大革命是哪三样":  "样",
		"危房改造先照顾哪几类户": "类",
	} {
		if got := unitForms(b.analyse(q)); strings.Contains(got, bad) {
			t.Errorf("%s: units %s hold %q", q, got, bad)
		}
	}
	// the same count elsewhere in a question is content, and 四种 is 四类
	got := unitForms(b.analyse("有四种人家不能评贫困户,是哪四种"))
	if !strings.Contains(got, "四类") {
		t.Errorf("四种 does not cover 四类: %s", got)
	}
}

// A question word that is also a synonym (多久 → 每月) searches but does
// not count as content a passage must cover.
func TestQuestionWordSynonymsWeighNothing(t *testing.T) {
	q := mustDefault(t).analyse("多久要走访一次")
	for _, u := range q.units {
		if u.forms[0] == "多久" && u.weight != 0 {
			t.Errorf("多久 weighs %v", u.weight)
		}
	}
	if q.terms["每月"] == 0 {
		t.Errorf("多久 no longer searches for 每月: %v", q.terms)
	}
}

// A word few passages use weighs more than one most passages use.
func TestRareWordsWeighMore(t *testing.T) {
	b := mustDefault(t)
	q := b.analyse("贫困户 宅基")
	q.resolveForms(b.ix)
	// per typed character: 宅基 is two units of one character each, 贫困户
	// one unit of three
	w := map[string]float64{}
	for _, u := range q.units {
		w[u.forms[0]] += u.weight / float64(len([]rune(u.forms[0])))
	}
	if len(w) != 2 {
		t.Fatalf("units: %s", unitForms(q))
	}
	if !(w["宅基"] > w["贫困户"]) {
		t.Errorf("per character weights: %v", w)
	}
}

// A typo whose neighbours both fail is repaired when the repair fits on
// one side (改照先 → 改造).
func TestTypoRepairedOnOneSide(t *testing.T) {
	q := mustDefault(t).analyse("危房改照先照顾哪几类户")
	if q.terms["改造"] == 0 {
		t.Errorf("改照 not repaired: %v", q.terms)
	}
}

func TestEnumerationItems(t *testing.T) {
	for text, want := range map[string]int{
		"“四类人员”(财政供养人员、有小汽车户、有商品房或商铺户、个体工商户或经商办企业户)清理不彻底": 4,
		"开发设立护林员、保洁员、护路员、安保员等农村公益岗位":                      4,
		"筛查贫困户工资性收入、经营性收入、财产性收入和转移性收入情况":                  4,
		"村、镇审核及公示":     3,
		"每月住村时间不少于20天": 0,
	} {
		if got := enumerationItems(text); got != want {
			t.Errorf("%s: %d items, want %d", text, got, want)
		}
	}
	if w := wantOf("到底是哪四种啊"); w.kind != wantList || w.count != 4 {
		t.Errorf("哪四种: %+v", w)
	}
	if w := wantOf("有哪些活动"); w.kind != wantList || w.count != 0 {
		t.Errorf("有哪些: %+v", w)
	}
}

// 几年 asks for a number of years, which a calendar year does not give.
func TestCalendarYearIsNotACountOfYears(t *testing.T) {
	w := wantOf("第一书记一任干几年")
	if w.kind != wantNumber || w.unit != "年" {
		t.Fatalf("want %+v", w)
	}
	if w.satisfiedBy("对照2019年度的文件要求") || w.prefersFacts(factsOf("对照2019年度的文件要求")) {
		t.Error("2019年 taken for a number of years")
	}
	if !w.satisfiedBy("任期一般为2年") || !w.prefersFacts(factsOf("任期一般为2年")) || !w.satisfiedBy("驻村三年") {
		t.Error("a number of years not recognised")
	}
	if w := wantOf("小额信贷最多能贷几万"); w.kind != wantNumber {
		t.Errorf("几万: %+v", w)
	}
}

// The lines that close a section ("完成时间:5月25日") stay with its text,
// and a date question gets the date even when it stands on its own line.
func TestClosingLinesStayWithTheirSection(t *testing.T) {
	body := strings.Repeat("对全乡所有农户饮水问题进行一轮大排查,准确掌握饮水短板情况。", 6)
	b := loadOnly(t, MemFS{
		"a.txt": []byte("标题\n一、反馈问题\n3.安全用水方面。个别贫困户水质检测报告无结论。\n整改措施:" + body + "协调区水务局对全乡饮水水质进行检测。\n责任领导:**\n责 任 人:**\n完成时间:5月25日\n4.安全住房方面。个别农户房屋安全认定表填写不规范。\n"),
	})
	var found bool
	for _, p := range b.Passages() {
		if strings.Contains(p.Text, "5月25日") {
			found = true
			if !strings.Contains(p.Text, "水质") {
				t.Errorf("the closing line is a passage of its own: %q", p.Text)
			}
		}
	}
	if !found {
		t.Fatal("date lost")
	}
	a := b.WithMinConfidence(-1).Answer("饮水水质检测整改期限是几号")
	if !strings.Contains(a.Text, "5月25日") {
		t.Errorf("date question answered without the date:\n%s", a.Text)
	}
}

// A repaired question is analysed again, so the repaired word meets its
// synonyms (懂态调整 → 动态调整 → 动态管理) and a typo's other reading counts
// (薄 read bao: 举薄 → 举报).
func TestRepairedQuestionIsAnalysedAgain(t *testing.T) {
	b := mustDefault(t)
	q := b.prepare("懂态调整是先退还是先进")
	if !strings.Contains(unitForms(q), "动态管理") {
		t.Errorf("units after repair: %s", unitForms(q))
	}
	if q := b.prepare("扶贫举薄电话多少"); q.terms["举报"] == 0 {
		t.Errorf("举薄 not repaired: %v", q.terms)
	}
	if q := b.prepare("想申请贫困户要走那些部骤"); !strings.Contains(unitForms(q), "步骤") {
		t.Errorf("部骤 not repaired to 步骤: %s", unitForms(q))
	}
}

// Speech splits verb-object words with a particle (脱了贫, 住过院); the
// pair is joined when the documents use it, and a particle that starts a
// word (了解, 完成) is left alone.
func TestSplitWordsAreJoined(t *testing.T) {
	b := mustDefault(t)
	for in, want := range map[string]string{
		"脱了贫以后政策还给不给": "脱贫以后政策还给不给",
		"要了解政策":       "要了解政策",
		"啥时候完成":       "啥时候完成",
	} {
		if got := b.joinSplitWords(in); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}

// A yes/no question is about its predicate; a question word makes it a
// wh-question whatever modal it uses.
func TestPredicateCoverage(t *testing.T) {
	b := mustDefault(t)
	q := b.prepare("易地搬迁分的房子能出租吗")
	if got := q.predicateCoverage(Normalize("易地扶贫搬迁的房屋要及时封顶")); got != 0 {
		t.Errorf("predicate 出租 covered %.2f by a passage without it", got)
	}
	if got := q.predicateCoverage(Normalize("搬迁房屋可以出租")); got != 1 {
		t.Errorf("predicate covered %.2f by a passage with 出租", got)
	}
	for _, wh := range []string{"房子年底前能盖到啥程度", "乡镇扶贫专干几年内不能随便调动", "贫困发生率超过2%会咋样", "驻村工作队一个月最少得在村里住多少天",
		// 会 inside 社会 is not a modal, and 多长 is a question word
		"社会救助体系打算用多长时间建好"} {
		if got := b.prepare(wh).predicateCoverage(""); got != 1 {
			t.Errorf("%s taken for a yes/no question (%.2f)", wh, got)
		}
	}
	a := b.WithMinConfidence(-1)
	yes, no := a.Answer("易地搬迁分的房子能出租吗"), a.Answer("易地搬迁分的房子出租")
	if yes.Score >= no.Score {
		t.Errorf("an uncovered predicate did not lower confidence: %.2f vs %.2f", yes.Score, no.Score)
	}
}

func TestMoneyAndTimesUnits(t *testing.T) {
	if w := wantOf("扶贫公益岗一个月工资多少"); w.kind != wantNumber || w.unit != "钱" {
		t.Errorf("工资多少: %+v", w)
	}
	if w := wantOf("贫困村要开几家网店多少"); w.unit == "钱" {
		t.Errorf("no money word, yet %+v", w)
	}
	w := wantOf("贫困户可以申请几次小额信贷")
	if w.unit != "次" {
		t.Fatalf("几次: %+v", w)
	}
	for text, want := range map[string]bool{"存在贷款利息一次性扣除现象": false, "每年走访两次": true, "开展1次帮扶走访": true} {
		if w.satisfiedBy(text) != want || w.prefersFacts(factsOf(text)) != want {
			t.Errorf("%s: want %v", text, want)
		}
	}
}

// A list written "一是…。二是…。三是…" over several sentences, and over a
// passage break, answers a which-ones question whole.
func TestOrdinalListAnswersWhole(t *testing.T) {
	filler := strings.Repeat("要统一思想认识,压实各级责任,确保工作落到实处。", 3)
	b := loadOnly(t, MemFS{
		"a.txt": []byte("标题\n一、思想认识\n坚决克服“三个误区”。一是坚决克服贫困总量不大的错误认识。" + filler +
			"二是坚决克服可以松口气的麻痹思想。" + filler + "三是坚决克服脱贫攻坚是临时任务的观点。\n二、其他\n做好宣传工作。\n"),
	})
	if n := len(b.Passages()); n < 3 {
		t.Fatalf("the test needs the list cut over passages; got %d passages", n)
	}
	a := b.WithMinConfidence(-1).Answer("要克服哪三个误区")
	for _, item := range []string{"一是", "二是", "三是"} {
		if !strings.Contains(a.Text, item) {
			t.Errorf("answer lacks %s:\n%s", item, a.Text)
		}
	}
	if len(a.Text) > MaxReplyBytes {
		t.Errorf("answer is %d bytes", len(a.Text))
	}
}

func TestDotDateIsADate(t *testing.T) {
	if !(want{kind: wantDate}).satisfiedBy("“10·17扶贫日”系列活动不多") {
		t.Error("10·17 not seen as a date")
	}
}

func TestMoreMoneyAndDateCues(t *testing.T) {
	for q, unit := range map[string]string{
		"扶贫车间招一个贫困户能拿多少奖励": "钱",
		"村干部的补贴标准一个月多少":    "钱",
		"贫困户盖新房能贷多少款":      "钱",
		"贫困户养羊一只补多少":       "钱",
	} {
		if w := wantOf(q); w.kind != wantNumber || w.unit != unit {
			t.Errorf("%s: %+v", q, w)
		}
	}
	if w := wantOf("抽查和公告是哪几个月"); w.kind != wantDate {
		t.Errorf("哪几个月: %+v", w)
	}
}

// A heading's number ("3.过基本医疗的筛子") is no figure for a how-many
// question; a date in a heading still counts.
func TestHeadingNumbersAreNotFigures(t *testing.T) {
	p := &Passage{Path: []string{"二、工作任务", "3.过基本医疗的筛子"}, Sentences: []string{"筛查大病保险、医疗救助覆盖情况。"}}
	if (want{kind: wantNumber}).satisfiedBy(quotedText([]candidate{{p: p}})) {
		t.Error("the heading number 3 answered a how-many question")
	}
	p = &Passage{Path: []string{"四、工作步骤", "(二)全面排查整改(5月2日~6月10日)"}, Sentences: []string{"各乡镇集中力量排查。"}}
	if !(want{kind: wantDate}).satisfiedBy(quotedText([]candidate{{p: p}})) {
		t.Error("the date in a heading no longer counts")
	}
}

// A yes/no question with no modal is about its last words.
func TestBareYesNoPredicate(t *testing.T) {
	q := mustDefault(t).prepare("扶贫搬迁的旧房子拆了给补偿吗")
	if got := q.predicateCoverage(Normalize("易地扶贫搬迁的旧房子要及时拆除")); got != 0 {
		t.Errorf("补偿 covered %.2f by a passage without it", got)
	}
}

func TestSizeAndWhichCues(t *testing.T) {
	for q, w := range map[string]want{
		"危房改造的房子要多大面积": {kind: wantNumber, unit: "面积"},
		"安置点离老家多远":     {kind: wantNumber, unit: "距离"},
		"威海大调研是哪几天搞的":  {kind: wantDate},
		"整改要做到哪几个不放过":  {kind: wantList},
	} {
		if got := wantOf(q); got != w {
			t.Errorf("%s: %+v, want %+v", q, got, w)
		}
	}
	area := want{kind: wantNumber, unit: "面积"}
	for text, ok := range map[string]bool{"广场面积达到1000平方米以上": true, "扶持了4000元建房款": false} {
		if area.satisfiedBy(text) != ok || area.prefersFacts(factsOf(text)) != ok {
			t.Errorf("%s: want %v", text, ok)
		}
	}
	if (want{kind: wantNumber, unit: "距离"}).prefersFacts(factsOf("广场面积达到1000平方米以上")) {
		t.Error("平方米 taken for a distance")
	}
}

// 多久一次 asks how often: a passage without a frequency or a span does not
// answer it.
func TestFrequencyQuestions(t *testing.T) {
	w := wantOf("扶贫资金审计多久一次")
	if w.kind != wantFreq {
		t.Fatalf("多久一次: %+v", w)
	}
	for text, ok := range map[string]bool{
		"实行一月一调度,一季一督查,半年一讲评": true,
		"第二季度中26户未脱贫户均已开展月走访": true,
		"坚持扶贫项目实施半月调度机制":      true,
		"集中整治30天": true,
		"存在贷款利息一次性扣除现象,监管、审计没有跟上": false,
	} {
		p := &Passage{Sentences: []string{text}}
		if w.satisfiedBy(text) != ok || w.prefersSentence(p, 0) != ok {
			t.Errorf("%s: want %v", text, ok)
		}
	}
}

// A common one-character verb (去, 帮) alone is no predicate to check.
func TestOneCharacterPredicateIsIgnored(t *testing.T) {
	q := mustDefault(t).prepare("这次走访稳定脱贫户也要去吗")
	if got := q.predicateCoverage(""); got != 1 {
		t.Errorf("predicate 去 counted: %.2f", got)
	}
}

// 多少 + a counted noun prefers figures in its unit, but any figure answers.
func TestCountedNounIsASoftUnit(t *testing.T) {
	w := wantOf("全镇有多少帮扶干部")
	if w.kind != wantNumber || w.unit != "人" || !w.soft {
		t.Fatalf("多少帮扶干部: %+v", w)
	}
	if !w.prefersFacts(factsOf("全镇共有帮扶干部271人")) || w.prefersFacts(factsOf("开展1次帮扶走访")) {
		t.Error("the counted noun does not rank figures")
	}
	if !w.satisfiedBy("聚焦180个重点村、4.9万建档立卡贫困人口") {
		t.Error("a figure written before its noun refused")
	}
	if u := wantOf("全县有多少贫困户").unit; u != "户" {
		t.Errorf("多少贫困户: unit %q", u)
	}
}

// The question's words in its order (工作手册) count for more than the same
// words apart (工作 … 手册 … 手册).
func TestPhrasesInOrderRankHigher(t *testing.T) {
	b := loadOnly(t, MemFS{
		"a.txt": []byte("一、资料\n按照精准管理手册填写说明,补齐工作资料,发放精准管理手册,按时填写管理手册中帮扶措施表。\n" +
			"二、宣传\n印发《脱贫攻坚工作手册》到乡村两级干部,做到人手一册。" + strings.Repeat("要建立扶贫微信宣传平台,办好简报,扩大宣传覆盖面。", 3) + "\n三、其他\n落实教育资助政策。\n四、住房\n危房改造补助资金全额落实到户。\n"),
	})
	q := b.prepare("工作手册发给谁")
	if q.phraseCoverage(Normalize("印发《脱贫攻坚工作手册》")) < 0.6 || q.phraseCoverage(Normalize("工作资料和管理手册")) != 0 {
		t.Fatalf("trigrams %v", q.trigrams)
	}
	lex := b.ix.search(q.ordered, rerankPool)
	hits := b.rerank(q, lex, lex[0].score)
	if got := b.passages[hits[0].doc].Text; !strings.Contains(got, "人手一册") {
		t.Errorf("first after rerank: %s", got)
	}
}

func TestChineseAmounts(t *testing.T) {
	for in, want := range map[string]int{"二十": 20, "十": 10, "十五": 15, "三百五十": 350, "两千五": 2500, "四千": 4000, "一万二": 12000, "一万": 10000, "两万": 20000} {
		if got, ok := chineseNumber(in); !ok || got != want {
			t.Errorf("%s = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"收入达不到四千块算不算脱贫": "收入达不到4000元算不算脱贫",
		"每月驻村不少于二十天":    "每月驻村不少于20天",
		"一个人给5块钱":       "一个人给5元",
		"五个一批是啥":        "五个一批是啥",
		"一户一方案":         "一户一方案",
		"两不愁三保障":        "两不愁三保障",
	} {
		if got := arabicAmounts(in); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
	if a := mustDefault(t).WithMinConfidence(-1).Answer("贫困户收入达不到四千块算不算脱贫"); !strings.Contains(a.Text, "4000元") {
		t.Errorf("四千块 did not find 4000元:\n%s", a.Text)
	}
}
