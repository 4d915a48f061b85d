package knowledge

import (
	"reflect"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"full-width digits and letters", "２０天ＡＢＣ", "20天abc"},
		{"full-width punctuation", "多少？（一）", "多少?(一)"},
		{"chinese punctuation folded", "户申请，组推荐。", "户申请,组推荐."},
		{"white space removed", " 驻村 \t干部\u3000 ", "驻村干部"},
		{"traditional to simplified", "貧困戶幫扶", "贫困户帮扶"},
		{"ascii lower-cased", "QR码", "qr码"},
		{"dashes folded", "3—5名", "3-5名"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSegments(t *testing.T) {
	got := segments(Normalize("每月不少于20天，4.9万人"))
	want := [][]string{{"每", "月", "不", "少", "于", "20", "天"}, {"4.9", "万", "人"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("segments = %q, want %q", got, want)
	}
}

func TestTermCountsNeverStraddlePunctuation(t *testing.T) {
	tc := termCounts(Normalize("户申请,组推荐"))
	if tc["请组"] != 0 {
		t.Errorf("bigram across a comma was indexed: %v", tc)
	}
	if tc["申请"] != 1 || tc["推荐"] != 1 || tc["户"] != 1 {
		t.Errorf("missing terms: %v", tc)
	}
}
