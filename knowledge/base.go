package knowledge

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

//go:embed corpus
var embedded embed.FS

// Options configure Load.
type Options struct {
	// Dirs are extra folders of knowledge: documents (.txt, .md, .docx, each
	// with an optional NAME.meta.json beside it), FAQ files (*.faq.json),
	// synonym lists (*synonyms.txt) and vocabulary (*stopwords.txt,
	// *cues.txt, *units.txt: see knowledge/vocab).
	Dirs []string
	// NoDefault leaves out the embedded corpus.
	NoDefault bool
	// MinConfidence overrides DefaultMinConfidence when > 0.
	MinConfidence float64
	// Extra is one more folder, read last (knowledge added from the
	// console and kept in the store, as a MemFS).
	Extra fs.FS
	// MaxDocumentText and MaxTotalText bound the text of one document and
	// of all documents (bytes; <= 0: DefaultMaxDocumentText and
	// DefaultMaxTotalText). A document over either is reported and left out.
	MaxDocumentText, MaxTotalText int
}

// Problem is a file that could not be loaded. Load reports it and carries
// on with the other files.
type Problem struct {
	File string
	Err  error
}

func (p Problem) Error() string { return p.File + ": " + p.Err.Error() }

// Base is a loaded knowledge base. It is immutable and safe for concurrent
// use; to change the knowledge, Load a new Base and swap it in.
type Base struct {
	docs     []*Document
	passages []*Passage
	ix       *index
	syn      synonyms
	vocab    *vocab      // stop words, cues, units: embedded, extended by *stopwords.txt, *cues.txt, *units.txt
	vocabExt []vocabFile // the extensions found while loading
	typo     *typoModel
	faq      []*faqEntry
	faqIx    faqIndex
	minConf  float64
	cache    *answerCache
	files    map[string]string // source file name → its text as loaded
	textSize int               // bytes of document text loaded

	maxDoc, maxTotal int
	// vecs are the passages' unit vectors (WithVectors), qvec the
	// question's in an AnswerVec copy; nil without semantic retrieval.
	vecs [][]float32
	qvec []float32
}

// maxFileBytes bounds one knowledge file; larger files are reported.
const maxFileBytes = 32 << 20

// Load builds a Base from the embedded corpus and opts.Dirs. Broken or
// unreadable files in Dirs are returned as problems and skipped; the error
// is non-nil only when the embedded corpus itself is broken or nothing at
// all could be loaded.
func Load(opts Options) (*Base, []Problem, error) {
	b := &Base{minConf: DefaultMinConfidence, maxDoc: opts.MaxDocumentText, maxTotal: opts.MaxTotalText}
	if b.maxDoc <= 0 {
		b.maxDoc = DefaultMaxDocumentText
	}
	if b.maxTotal <= 0 {
		b.maxTotal = DefaultMaxTotalText
	}
	if opts.MinConfidence > 0 {
		b.minConf = opts.MinConfidence
	}
	var problems []Problem
	if !opts.NoDefault {
		sub, _ := fs.Sub(embedded, "corpus")
		if p := b.loadFS(sub, "embedded:"); len(p) > 0 {
			return nil, p, fmt.Errorf("knowledge: embedded corpus: %w", errors.Join(problemErrs(p)...))
		}
	}
	for _, dir := range opts.Dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			if err == nil {
				err = errors.New("not a directory")
			}
			problems = append(problems, Problem{File: dir, Err: err})
			continue
		}
		problems = append(problems, b.loadFS(os.DirFS(dir), dir+string(filepath.Separator))...)
	}
	if opts.Extra != nil {
		problems = append(problems, b.loadFS(opts.Extra, "store:")...)
	}
	if len(b.docs) == 0 {
		return nil, problems, errors.New("knowledge: no documents loaded")
	}
	b.syn.addCountedKinds()
	b.syn.freeze()
	v, err := withExtensions(b.vocabExt)
	if err != nil {
		// a broken extension is reported; the embedded vocabulary serves
		problems = append(problems, Problem{File: "vocabulary", Err: err})
		v = defaultVocab
	}
	b.vocab = v
	b.finish()
	return b, problems, nil
}

func problemErrs(ps []Problem) []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// loadFS reads one folder: documents, their metadata, FAQ and synonyms.
func (b *Base) loadFS(fsys fs.FS, label string) []Problem {
	var problems []Problem
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return []Problem{{File: label, Err: err}}
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	read := func(name string) ([]byte, error) {
		f, err := fsys.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Size() > maxFileBytes {
			return nil, fmt.Errorf("larger than %d MiB", maxFileBytes>>20)
		}
		return fs.ReadFile(fsys, name)
	}
	for _, name := range names {
		lower := strings.ToLower(name)
		ext := path.Ext(lower)
		fail := func(err error) { problems = append(problems, Problem{File: label + name, Err: err}) }
		switch {
		case strings.HasSuffix(lower, ".meta.json"):
			continue // read with its document
		case strings.HasSuffix(lower, ".faq.json"):
			data, err := read(name)
			if err != nil {
				fail(err)
				continue
			}
			list, err := parseFAQ(name, data)
			if err != nil {
				fail(err)
				continue
			}
			for _, f := range list {
				b.faq = append(b.faq, &faqEntry{FAQ: f}) // variants read in finish, with the vocabulary
			}
		case isVocabFile(lower):
			data, err := read(name)
			if err != nil {
				fail(err)
				continue
			}
			b.vocabExt = append(b.vocabExt, vocabFile{name: name, text: string(data)})
		case strings.HasSuffix(lower, "synonyms.txt"):
			data, err := read(name)
			if err != nil {
				fail(err)
				continue
			}
			if err := b.syn.parse(name, string(data)); err != nil {
				fail(err)
			}
		case ext == ".txt" || ext == ".md" || ext == ".docx":
			data, err := read(name)
			if err != nil {
				fail(err)
				continue
			}
			text, err := DocumentText(name, data, b.maxDoc)
			if err != nil {
				fail(err)
				continue
			}
			if b.textSize+len(text) > b.maxTotal {
				fail(fmt.Errorf("%w：知识库的文字已到上限 %d MB，这份文件没有加入", ErrTooMuchText, b.maxTotal>>20))
				continue
			}
			var meta *Meta
			metaName := strings.TrimSuffix(name, path.Ext(name)) + ".meta.json"
			if md, err := fs.ReadFile(fsys, metaName); err == nil {
				if meta, err = parseMeta(md); err != nil {
					fail(fmt.Errorf("%s: %w", metaName, err))
					continue
				}
			}
			if b.files == nil {
				b.files = map[string]string{}
			}
			b.files[name] = text
			docs := buildDocuments(name, text, meta)
			if len(docs) == 0 {
				fail(errors.New("文件里没有文字"))
				continue
			}
			b.textSize += len(text)
			b.docs = append(b.docs, docs...)
		}
	}
	return problems
}

// finish numbers the passages and builds the index and typo model.
func (b *Base) finish() {
	b.passages = b.passages[:0]
	for _, d := range b.docs {
		d.citation = d.makeCitation()
		for _, p := range d.Passages {
			p.cite = d.citation + sectionSuffix(p.Section())
			p.ID = len(b.passages)
			p.normSentences = make([]string, len(p.Sentences))
			p.sentFacts = make([]facts, len(p.Sentences))
			for i, s := range p.Sentences {
				p.normSentences[i] = Normalize(s)
				p.sentFacts[i] = b.vocab.factsOf(stripArticleNumber(s))
				p.sentFacts[i].fault = statesFault(s)
			}
			p.Role = roleOf(p)
			p.normContext = Normalize(strings.Join(p.Path, "。") + "。" + d.Title)
			p.normEvidence = Normalize(p.Text) + "|" + p.normContext
			b.passages = append(b.passages, p)
		}
	}
	b.cache = newAnswerCache(answerCacheSize)
	b.ix = buildIndex(b.passages)
	for _, d := range b.docs {
		b.ix.titles = append(b.ix.titles, Normalize(d.Title))
	}
	for _, p := range b.passages {
		p.buildTermMasks(b.ix)
	}
	b.typo = newTypoModel(b.ix)
	// FAQ entries name a file; fill the title from it when left out.
	for _, e := range b.faq {
		e.variants = e.variants[:0]
		for _, v := range e.Questions {
			e.variants = append(e.variants, b.vocab.contentBigrams(v))
		}
		if e.Title == "" {
			for _, d := range b.docs {
				if d.File == e.File {
					e.Title = d.Title
					break
				}
			}
		}
	}
	b.faqIx = newFAQIndex(b.faq)
}

// TextSize is the bytes of document text loaded (see MaxTotalText).
func (b *Base) TextSize() int { return b.textSize }

// MaxTotalText is the limit on all documents' text this base was loaded with.
func (b *Base) MaxTotalText() int { return b.maxTotal }

// FileText returns the text of a source file as it was loaded (a .docx
// as its extracted text), e.g. to check that a quiz quote occurs in it.
func (b *Base) FileText(file string) (string, bool) {
	t, ok := b.files[file]
	return t, ok
}

// Cite returns the source line of the passage of file that holds quote,
// as answers cite it: 《title》(文号) › section. When the quote spans
// passages it cites the document; ok is false when the file is unknown.
func (b *Base) Cite(file, quote string) (string, bool) {
	nq := Normalize(quote)
	var first *Document
	for _, d := range b.docs {
		if d.File != file {
			continue
		}
		if first == nil {
			first = d
		}
		for _, p := range d.Passages {
			if strings.Contains(p.Text, quote) || strings.Contains(Normalize(p.Text), nq) {
				return p.cite, true
			}
		}
	}
	if first == nil {
		return "", false
	}
	return first.Citation(), true
}

// Documents returns the loaded documents in load order.
func (b *Base) Documents() []*Document { return b.docs }

// Passages returns every passage, indexed by Passage.ID.
func (b *Base) Passages() []*Passage { return b.passages }

// FAQCount is the number of FAQ entries loaded.
func (b *Base) FAQCount() int { return len(b.faq) }

// buildTermMasks records which sentences contain each index term.
func (p *Passage) buildTermMasks(ix *index) {
	if len(p.normSentences) > 63 {
		return
	}
	var pairs []termMask // one per (term, sentence), merged below
	var buf []byte
	texts := append(append([]string(nil), p.normSentences...), p.normContext)
	for i, ns := range texts {
		bit := uint64(1) << i
		if i == len(p.normSentences) {
			bit = ctxBit // the heading path and title
		}
		for _, seg := range segments(ns) {
			for k, a := range seg {
				if id, ok := ix.terms[a]; ok {
					pairs = append(pairs, termMask{id, bit})
				}
				if k+1 < len(seg) {
					// the bigram key in a reused buffer: no allocation per lookup
					buf = append(append(buf[:0], a...), seg[k+1]...)
					if id, ok := ix.terms[string(buf)]; ok {
						pairs = append(pairs, termMask{id, bit})
					}
				}
			}
		}
	}
	slices.SortFunc(pairs, func(a, b termMask) int { return cmp.Compare(a.id, b.id) })
	out := pairs[:0]
	for _, tm := range pairs {
		if n := len(out); n > 0 && out[n-1].id == tm.id {
			out[n-1].mask |= tm.mask
			continue
		}
		out = append(out, tm)
	}
	p.termMasks = append([]termMask(nil), out...)
}
