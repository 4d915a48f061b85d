package knowledge

import (
	"fmt"
	"strings"
	"testing"
)

func TestFigures(t *testing.T) {
	for in, want := range map[string]string{
		"每月不少于20天":   "[20]",
		"每月不少于二十天":   "[20]",
		"一百二十五户":     "[125]",
		"两万元":        "[20000]",
		"0.5%":       "[0.5]",
		"2026年12月1日": "[2026 12 1]",
		"一些政策，十分重要":  "[]",
		"一个月":        "[1]",
		"30元/天下乡补助":  "[30]",
		"最多不超过5户":    "[5]",
	} {
		if got := fmt.Sprint(figures(in)); got != want {
			t.Errorf("figures(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestUngrounded(t *testing.T) {
	ev := []Evidence{{Title: "汨罗市脱贫攻坚突出问题集中整改方案", Citation: "《汨罗市脱贫攻坚突出问题集中整改方案》(汨扶发〔2017〕14号,2017年4月23日) 三、整改措施",
		Text: "加强驻村工作管理,选派得力干部担任驻村帮扶工作队队长,每月住村时间不少于20天。每个结对帮扶干部帮扶对象最多不超过5户。"}}
	for answer, ok := range map[string]bool{
		"驻村干部每月要在村里住不少于20天。":            true,
		"按规定，每月住村不少于二十天，帮扶干部最多帮5户。":     true,
		"每月驻村不少于15天。":                   false, // the invented figure of the issue
		"每月不少于20天，每天补助50元。":             false,
		"依据《汨罗市脱贫攻坚突出问题集中整改方案》，不少于20天。": true,
		"依据《中华人民共和国乡村振兴促进法》，不少于20天。":    false, // a source we did not give
		"您好！这个问题我来帮您看看：一些村要求更严格。":       true,
	} {
		bad := Ungrounded(answer, ev)
		if (len(bad) == 0) != ok {
			t.Errorf("%q: problems %v, want grounded=%v", answer, bad, ok)
		}
		if !ok && !strings.Contains(strings.Join(bad, ";"), "not") {
			t.Errorf("%q: %v", answer, bad)
		}
	}
}

func TestEvidence(t *testing.T) {
	b := mustDefault(t)
	ev := b.Answer("驻村工作队一个月在村里要住多少天").Evidence // not a FAQ variant: FAQ answers carry none
	if len(ev) < 3 || len(ev) > maxEvidence || !strings.Contains(ev[0].Text+ev[1].Text+ev[2].Text, "20天") || !strings.HasPrefix(ev[0].Citation, "《") {
		t.Errorf("evidence %+v", ev)
	}
}
