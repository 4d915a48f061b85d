package knowledge

import (
	"strings"
	"testing"
)

func TestHeading(t *testing.T) {
	tests := []struct {
		line      string
		wantOK    bool
		wantRank  int
		wantLabel string
	}{
		{"一、指导思想", true, rankCN, "一、指导思想"},
		{"三、整改措施", true, rankCN, "三、整改措施"},
		{"(二)全面开展帮扶走访。", true, rankParCN, "(二)全面开展帮扶走访"},
		{"（二）全面开展帮扶走访。", true, rankParCN, "（二）全面开展帮扶走访"},
		{"3、压实帮扶责任,确保帮扶全覆盖。驻村帮扶后盾单位…", true, rankNum, "3、压实帮扶责任,确保帮扶全覆盖"},
		{"1.产业选择。为认真贯彻落实…", true, rankNum, "1.产业选择"},
		{"(1)建立台账", true, rankParNum, "(1)建立台账"},
		{"①谈一次心", true, rankCircled, "①谈一次心"},
		{"第二章 识别", true, rankChapter, "第二章 识别"},
		{"【向深度贫困进军】", true, rankTitle, "【向深度贫困进军】"},
		{"## 附则", true, rankTitle, "附则"},
		// not headings
		{"4.9万建档立卡贫困人口", false, 0, ""},
		{"2016年全市339户1068人的搬迁任务", false, 0, ""},
		{"1、村级文化中心建设按省政府规定2019年底要达到100%覆盖,目前全县还有21个行政村未建设或不达标;", false, 0, ""},
		{"整改措施:一是乡党委政府加强对村档案…", false, 0, ""},
		{"一是与贫困群众谈一次心。", false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			rank, label, ok := heading(tt.line, nil)
			if ok != tt.wantOK || (ok && (rank != tt.wantRank || label != tt.wantLabel)) {
				t.Errorf("heading(%q) = %d %q %v, want %d %q %v", tt.line, rank, label, ok, tt.wantRank, tt.wantLabel, tt.wantOK)
			}
		})
	}
}

func TestBuildPassagesHeadingPath(t *testing.T) {
	text := `关于某事的方案
一、总体要求
总的要求写在这里。
二、整改措施
(一)压实责任
1、明确分工。由镇扶贫办负责。
2、按时完成。5月底前完成。
(二)加强督查
每月一调度。
三、工作要求
不准走过场。`
	docs := buildDocuments("x.txt", text, &Meta{Title: "某方案"})
	if len(docs) != 1 {
		t.Fatalf("got %d documents", len(docs))
	}
	var got []string
	for _, p := range docs[0].Passages {
		got = append(got, p.Section()+" = "+p.Text)
	}
	want := []string{
		" = 关于某事的方案",
		"一、总体要求 = 总的要求写在这里。",
		"二、整改措施 › (一)压实责任 › 1、明确分工 = 1、明确分工。由镇扶贫办负责。",
		"二、整改措施 › (一)压实责任 › 2、按时完成 = 2、按时完成。5月底前完成。",
		"二、整改措施 › (二)加强督查 = 每月一调度。",
		"三、工作要求 = 不准走过场。",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("passages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSplitSentencesKeepsQuotesAndConcatenates(t *testing.T) {
	p := `要求“户申请,组推荐。”然后公示;最后上报!没有标点的尾巴`
	ss := splitSentences(p)
	want := []string{`要求“户申请,组推荐。”`, "然后公示;", "最后上报!", "没有标点的尾巴"}
	if strings.Join(ss, "|") != strings.Join(want, "|") {
		t.Errorf("splitSentences = %q, want %q", ss, want)
	}
	if strings.Join(ss, "") != p {
		t.Error("sentences do not concatenate back to the paragraph")
	}
}

func TestLongParagraphIsCutBetweenSentencesOnly(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 40; i++ {
		b.WriteString("这是一个用来测试切分的完整句子。")
	}
	docs := buildDocuments("long.txt", "一、标题\n"+b.String(), &Meta{Title: "t"})
	ps := docs[0].Passages
	if len(ps) < 2 {
		t.Fatalf("a %d-rune paragraph made %d passage(s)", len([]rune(b.String())), len(ps))
	}
	for _, p := range ps {
		if !strings.HasSuffix(p.Text, "。") {
			t.Errorf("passage cut mid-sentence: …%q", p.Text[max(0, len(p.Text)-30):])
		}
		if n := len([]rune(p.Text)); n > maxPassageRunes+40 {
			t.Errorf("passage of %d runes exceeds the soft limit", n)
		}
	}
}
