package knowledge

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Limits on what documents may add to a knowledge base, so that one file
// (a zip bomb, a pasted database) cannot take the memory or the start-up
// time of the service. The shipped corpus is about 150 KB of text; the
// 100× corpus of the benchmarks, 15 MB, takes ~210 MB of heap.
const (
	// DefaultMaxDocumentText bounds the text of one document (UTF-8
	// bytes): a 300-page regulation has well under 1 MB.
	DefaultMaxDocumentText = 2 << 20
	// DefaultMaxTotalText bounds the text of every document together.
	DefaultMaxTotalText = 16 << 20
	// maxDocxXML bounds the decompressed word/document.xml.
	maxDocxXML = 32 << 20
)

// ErrTooMuchText is wrapped by the errors of a document over a limit.
var ErrTooMuchText = errors.New("文字太多")

// DocumentText returns the text of a document file (.txt, .md or .docx)
// as the knowledge base reads it: UTF-8, or GB18030/GBK as Windows writes
// Chinese text, or a Word document's paragraphs. maxText (<= 0: the
// default) bounds the text. Its errors are written for the official who
// gave the file.
func DocumentText(name string, data []byte, maxText int) (string, error) {
	if maxText <= 0 {
		maxText = DefaultMaxDocumentText
	}
	var text string
	switch strings.ToLower(path.Ext(name)) {
	case ".docx":
		t, err := readDocx(data, maxText)
		if err != nil {
			return "", err
		}
		text = t
	case ".txt", ".md":
		t, err := decodeText(data)
		if err != nil {
			return "", err
		}
		text = t
	default:
		return "", errors.New("只收 .txt、.md 或 .docx 文件")
	}
	if len(text) > maxText {
		return "", errTextOver(maxText)
	}
	if strings.TrimSpace(text) == "" {
		return "", errors.New("文件里没有文字")
	}
	return text, nil
}

// decodeText reads UTF-8 (a BOM is dropped), else GB18030, which covers
// GBK and GB2312.
func decodeText(data []byte) (string, error) {
	if strings.ContainsRune(string(data), 0) {
		return "", errors.New("不是文本文件（里面有二进制内容）")
	}
	if utf8.Valid(data) {
		return strings.TrimPrefix(string(data), "\ufeff"), nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || !utf8.Valid(out) || strings.ContainsRune(string(out), utf8.RuneError) {
		return "", errors.New("文字编码认不出来（请另存为 UTF-8 或 GBK 编码的文本）")
	}
	return string(out), nil
}

// errTextOver refuses a document whose text is over maxText bytes.
func errTextOver(maxText int) error {
	return fmt.Errorf("%w：超过 %d MB（这是一份文件能有的文字上限）", ErrTooMuchText, maxText>>20)
}

// errDocxOver refuses a .docx whose body unpacks past maxDocxXML.
var errDocxOver = fmt.Errorf("%w：Word 正文解压后超过 %d MB", ErrTooMuchText, maxDocxXML>>20)
