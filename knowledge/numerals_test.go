package knowledge

import (
	"reflect"
	"testing"
)

// Issue 13.4: one reader of Chinese numerals. The question's reader and the
// grounding check's used to disagree (两千五: 2500 and 2005; 一万二: 12000
// and 10002).
func TestOneReaderOfChineseNumerals(t *testing.T) {
	for in, want := range map[string]int{
		"二十": 20, "十": 10, "十五": 15, "三百五十": 350, "三百五": 350, "两千五": 2500, "一万二": 12000,
		"一百零五": 105, "一千零五": 1005, "一万零五百": 10500, "五十万": 500000, "十二万三千四百五十六": 123456,
		"两万": 20000, "万": 10000, "三亿": 300000000, "二〇二六": 2026, "二零二六": 2026, "零": 0, "一百二十五": 125,
	} {
		if got, ok := chineseNumber(in); !ok || got != want {
			t.Errorf("chineseNumber(%s) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, word := range []string{"一些", "十分", "", "三五成群"} {
		if _, ok := chineseNumber(word); ok {
			t.Errorf("chineseNumber(%q) read a word as a number", word)
		}
	}
	if got := figures("每人补助两千五元，最多一万二元"); !reflect.DeepEqual(got, []string{"2500", "12000"}) {
		t.Errorf("figures = %v, want [2500 12000]", got)
	}
	ev := []Evidence{{Citation: "《某办法》", Text: "每人每年补助2500元，家庭最高12000元。"}}
	if bad := Ungrounded("每人每年补两千五，一家最多一万二千元。", ev); len(bad) > 0 {
		t.Errorf("an answer in Chinese numerals for figures the evidence holds is called ungrounded: %v", bad)
	}
	if bad := Ungrounded("每人每年补两千零五元。", ev); len(bad) == 0 {
		t.Error("两千零五 (2005) passed against evidence that says 2500")
	}
}
