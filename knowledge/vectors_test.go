package knowledge

import (
	"strings"
	"testing"
)

// conceptVector is a stand-in embedding: one dimension per concept, set
// when the text names it in any of its words. It lets a test see what
// meaning adds to words without a model.
func conceptVector(text string) []float32 {
	concepts := [][]string{{"光伏", "太阳能"}, {"低保", "最低生活保障"}, {"危房", "房子"}, {"收益", "挣的钱", "分红"}}
	v := make([]float32, len(concepts)+1)
	v[len(concepts)] = 0.1 // never a zero vector
	for i, words := range concepts {
		for _, w := range words {
			if strings.Contains(text, w) {
				v[i] = 1
			}
		}
	}
	return v
}

func TestVectorsFuseWithWords(t *testing.T) {
	doc := "某村资产管理办法\n\n一、光伏电站\n\n村级光伏电站收益用于公益岗位和村集体。\n\n二、危房改造\n\n危房改造补助按鉴定等级发放，由县住建局审核。\n\n三、最低生活保障\n\n最低生活保障金按月发放到户。\n"
	dir := mustWrite(t, map[string][]byte{"办法.txt": []byte(doc)})
	b, _, err := Load(Options{Dirs: []string{dir}, NoDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	vecs := make([][]float32, len(b.Passages()))
	keys := map[string]bool{}
	for i := range vecs {
		vecs[i] = conceptVector(b.EmbedText(i))
		keys[b.EmbedKey(i)] = true
	}
	if len(keys) != len(vecs) {
		t.Fatalf("embed keys are not distinct: %v", keys)
	}
	bv := b.WithVectors(vecs)
	if !bv.HasVectors() || b.HasVectors() {
		t.Fatal("WithVectors changed the original or gave nothing")
	}
	q := "太阳能板挣的钱咋分"
	lex := b.WithMinConfidence(-1).Answer(q)
	sem := bv.WithMinConfidence(-1).AnswerVec(q, conceptVector(q))
	if len(sem.Sources) == 0 || !strings.Contains(sem.Sources[0].Quote, "光伏电站收益") {
		t.Fatalf("with vectors the passage on 光伏 does not lead: %+v", sem.Sources)
	}
	if len(lex.Sources) > 0 && strings.Contains(lex.Sources[0].Quote, "光伏电站收益") {
		t.Fatal("words alone already find it: the test shows nothing")
	}
	// no question vector (the model failed): exactly the lexical answer
	if got := bv.WithMinConfidence(-1).AnswerVec(q, nil); got.Text != lex.Text {
		t.Errorf("without a question vector: %q, want the lexical %q", got.Text, lex.Text)
	}
	// a question the words answer keeps its answer
	if a := bv.AnswerVec("危房改造补助由谁审核", conceptVector("危房改造补助由谁审核")); !a.Answered || !strings.Contains(a.Text, "县住建局") {
		t.Errorf("a lexical answer was lost: %+v", a)
	}
}
