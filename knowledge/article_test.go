package knowledge

import (
	"strings"
	"testing"
)

// A regulation in 第X章/第X条 with (一) items: each article is a passage of
// its own whose items stay with it (they are not sections), cited by the
// article; a long article split in parts keeps its lead sentence in each.
const regulation = `某县救助办法

第一章　总则

第一条　为了保障困难群众基本生活，制定本办法。

第二条　救助工作遵循公开、公平、公正的原则。

第二章　特困人员供养

第三条　特困人员供养的内容包括：

(一)提供基本生活条件；

(二)对生活不能自理的给予照料；

(三)提供疾病治疗；

(四)办理丧葬事宜。

特困人员供养标准，由县级人民政府确定、公布。

第四条　特困供养人员可以自行选择供养形式。
`

func TestArticlesKeepTheirItems(t *testing.T) {
	dir := mustWrite(t, map[string][]byte{"办法.txt": []byte(regulation)})
	b, problems, err := Load(Options{Dirs: []string{dir}, NoDefault: true})
	if err != nil || len(problems) > 0 {
		t.Fatalf("load: %v %v", err, problems)
	}
	var art3 *Passage
	for _, p := range b.Passages() {
		if strings.Contains(p.Section(), "(") || strings.Contains(p.Section(), "（") {
			t.Errorf("an item became a section: %q", p.Section())
		}
		if strings.HasPrefix(p.Text, "第三条") {
			art3 = p
		}
		if strings.Contains(p.Text, "第三条") && strings.Contains(p.Text, "第四条") {
			t.Errorf("two articles in one passage: %q", p.Text)
		}
	}
	if art3 == nil {
		t.Fatal("no passage starts with 第三条")
	}
	for _, item := range []string{"基本生活条件", "照料", "疾病治疗", "丧葬事宜", "供养标准"} {
		if !strings.Contains(art3.Text, item) {
			t.Errorf("第三条's passage lacks %s: %q", item, art3.Text)
		}
	}
	if got := art3.Section(); got != "第二章　特困人员供养 › 第三条" {
		t.Errorf("cited as %q", got)
	}
	a := b.Answer("特困供养都包括哪些内容")
	if !a.Answered || !strings.Contains(a.Text, "疾病治疗") || !strings.Contains(a.Text, "第三条") {
		t.Errorf("answer = %+v", a)
	}
}

func TestLongArticleKeepsItsLeadSentence(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("某县办法\n\n第一条　申请救助，按照下列程序办理：\n\n")
	for _, n := range []string{"一", "二", "三", "四", "五", "六", "七", "八"} {
		sb.WriteString("(" + n + ")申请人向乡镇人民政府提出书面申请，乡镇人民政府应当通过入户调查、邻里访问、信息核查等方式调查核实，并在村里公示七日；\n\n")
	}
	dir := mustWrite(t, map[string][]byte{"程序.txt": []byte(sb.String())})
	b, _, err := Load(Options{Dirs: []string{dir}, NoDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	ps := b.Passages()
	if len(ps) < 2 {
		t.Fatalf("a long article was not split: %d passage(s)", len(ps))
	}
	for _, p := range ps {
		if p.Section() != "第一条" {
			continue // the title
		}
		if !strings.HasPrefix(p.Text, "第一条　申请救助，按照下列程序办理：") {
			t.Errorf("a part lacks the lead sentence: %.40q", p.Text)
		}
	}
}

// An article's number numbers the text; it is no figure the text states,
// so a how-much question is not "answered" by 第十九条.
func TestArticleNumberIsNoFigure(t *testing.T) {
	dir := mustWrite(t, map[string][]byte{"办法.txt": []byte("某县供养办法\n\n第十九条　特困供养人员可以在当地的供养服务机构集中供养，也可以在家分散供养。\n")})
	b, _, err := Load(Options{Dirs: []string{dir}, NoDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	if a := b.Answer("集中供养的伙食标准是多少钱"); a.Answered {
		t.Fatalf("a how-much question was answered by an article number: %s", a.Text)
	}
}

// The shipped lexicon of everyday social-assistance words (corpus/
// assistance-synonyms.txt) reaches documents added later: 爹妈 … 娃 …
// 自己住 finds 父母 … 儿童 … 单独居住.
func TestEverydayWordsReachAddedDocuments(t *testing.T) {
	dir := mustWrite(t, map[string][]byte{"意见.txt": []byte("某县关爱意见\n\n一、监护责任\n\n外出务工的父母不得让不满十六周岁的儿童脱离监护单独居住生活。\n")})
	b, _, err := Load(Options{Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	a := b.Answer("出去打工的爹妈能让娃自己住吗")
	if !a.Answered || !strings.Contains(a.Text, "单独居住") {
		t.Fatalf("answer = %+v", a)
	}
}

// Units as documents write them: 几天 is answered by 个工作日, 几岁 by 周岁.
func TestUnitsAsDocumentsWriteThem(t *testing.T) {
	dir := mustWrite(t, map[string][]byte{"办理.txt": []byte("某县临时救助办理规定\n\n一、办理时限\n\n乡镇人民政府应当自受理申请之日起3个工作日内完成审核。\n\n二、对象\n\n救助对象包括不满十六周岁的留守儿童。\n")})
	b, _, err := Load(Options{Dirs: []string{dir}, NoDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"乡镇几天内完成临时救助审核": "3个工作日", "救助对象包括不满几岁的留守儿童": "十六周岁"} {
		if a := b.Answer(q); !a.Answered || !strings.Contains(a.Text, want) {
			t.Errorf("%s = %+v", q, a)
		}
	}
}
