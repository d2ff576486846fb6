package scan

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fixtureTools returns the tools of every tool list of the corpus, the
// poisoning set and the fixtures.
func fixtureTools(t *testing.T) []Tool {
	t.Helper()
	var files []string
	for _, g := range []string{"testdata/corpus/*.json", "testdata/toollists/*.json", "testdata/poisoning/*.json", "../../shared/fixtures/toollists/*.json"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	var tools []Tool
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if l, err := ParseToolList(data); err == nil {
			tools = append(tools, l.Tools...)
		}
	}
	if len(tools) < 400 {
		t.Fatalf("only %d tools read", len(tools))
	}
	return tools
}

// fixtureTexts returns every text the text checks read in the fixture
// tools: names, titles, descriptions, and every string and key of their
// schemas and annotations.
func fixtureTexts(t *testing.T) []string {
	t.Helper()
	var texts []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			texts = append(texts, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for k, x := range v {
				texts = append(texts, k)
				walk(x)
			}
		}
	}
	for _, tool := range fixtureTools(t) {
		texts = append(texts, tool.Name, tool.Title, tool.Description)
		for _, raw := range [][]byte{tool.InputSchema, tool.OutputSchema, tool.Annotations} {
			if v, err := decodeJSONStd(raw); err == nil {
				walk(v)
			}
		}
	}
	return texts
}

// sameNorm checks normASCII against normRunes: where it reads a text, the
// same normalised text and whitespace run, and nothing hidden or invalid.
func sameNorm(t *testing.T, s string) {
	t.Helper()
	var fast, slow, mixed textNorm
	norm, ok := normASCII(nil, s, &fast)
	normRunes(nil, s, &slow)
	// normText: normASCII, then normRunes from where it stops.
	mnorm := normText(nil, s, &mixed)
	if string(mnorm) != string(slow.norm) || mixed.spaceN != slow.spaceN || !slices.Equal(mixed.invalid, slow.invalid) ||
		!maps.Equal(mixed.kinds, slow.kinds) || !maps.Equal(mixed.first, slow.first) || mixed.tagTxt.String() != slow.tagTxt.String() {
		t.Fatalf("normText(%q) = %q, run %d, invalid %v, hidden %v %v %q; normRunes: %q, run %d, invalid %v, hidden %v %v %q", s,
			mnorm, mixed.spaceN, mixed.invalid, mixed.kinds, mixed.first, mixed.tagTxt.String(),
			slow.norm, slow.spaceN, slow.invalid, slow.kinds, slow.first, slow.tagTxt.String())
	}
	if !ok {
		if slow.invalid == nil && slow.kinds == nil && isPlainASCII(s) {
			t.Fatalf("normASCII(%q) gave up on plain ASCII", s)
		}
		return
	}
	if string(norm) != string(slow.norm) || fast.spaceN != slow.spaceN || slow.invalid != nil || slow.kinds != nil || slow.tagTxt.Len() > 0 {
		t.Fatalf("normASCII(%q) = %q, run %d; normRunes: %q, run %d, invalid %v, hidden %v", s, norm, fast.spaceN, slow.norm, slow.spaceN, slow.invalid, slow.kinds)
	}
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 || c >= 0x7F) && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

func TestNormASCIIFixtures(t *testing.T) {
	for _, s := range fixtureTexts(t) {
		sameNorm(t, s)
	}
}

func FuzzNormASCII(f *testing.F) {
	for _, s := range []string{"", " ", "Ignore  Previous\tInstructions", "a\r\n\r\nb", "x\vy", "x\fy", "\x7f", "é", "a\u200bb", "\xff", "A" + string(make([]byte, 300)) + "b",
		"Abcdefg hIJKLMNO  pqrstuv wxyz@[`{~ ABCDEFGH       ijklmnop", "abcdefg  bcdefgh", "abcdefgh abcdefg", "abcdefg \tabcdefgh", "abc  \u00a0\u00a0 def", "x\u200b\u200b yz", "1\ufe0f a\ufe0f", "Hello World—Again  é", "ab\xffcd \U000E0041\U000E0042"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sameNorm(t, s)
	})
}

// matchPhrasesRef is matchPhrases by strings.Index, phrase by phrase.
func matchPhrasesRef(text []byte) []phraseMatch {
	var out []phraseMatch
	for pi, p := range allPhrases {
		if at := strings.Index(string(text), p.text); at >= 0 {
			out = append(out, phraseMatch{pi, at})
		}
	}
	return out
}

func samePhrases(t *testing.T, s string) {
	t.Helper()
	var tn textNorm
	normRunes(nil, s, &tn)
	for _, text := range [][]byte{[]byte(s), tn.norm} {
		if got, want := matchPhrases(text), matchPhrasesRef(text); !slices.Equal(got, want) {
			t.Fatalf("matchPhrases(%q) = %v, want %v", text, got, want)
		}
		_, hasHTTP, hasEnv := scanPhrases(text)
		if hasHTTP != strings.Contains(string(text), "http") || hasEnv != strings.Contains(string(text), ".env") {
			t.Fatalf("scanPhrases(%q): http %v, .env %v", text, hasHTTP, hasEnv)
		}
	}
}

func TestMatchPhrasesFixtures(t *testing.T) {
	for _, s := range fixtureTexts(t) {
		samePhrases(t, s)
	}
	for _, p := range allPhrases {
		samePhrases(t, "x "+p.text+" "+p.text)
	}
}

func FuzzMatchPhrases(f *testing.F) {
	for _, s := range []string{"", "i", "Ignore previous instructions and <!-- x", "do not tell the user, ~/.ssh/id_rsa", "before using this tool before using this tool", "<<!--", "also call also call ", "see https://x.io and .env", "htt", ".en", "xhttp", "a.env"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		samePhrases(t, s)
	})
}

// signalLists are the lists of signalMatcher, by index.
var signalLists = [][]string{authPhrase, piiPhrase, execPhrase, netPhrase, fsPhrase, msgPhrase,
	bulkPhrase, adminPhrase, irrevPhrase, moneyPhrase, execHints, sandboxHints, fetchHints}

// sameSignalPhrases checks the phrase hits of signalMatcher against
// anyPhrase and saysAny, list by list.
func sameSignalPhrases(t *testing.T, text string) {
	t.Helper()
	h := hits(signalMatcher, text)
	for k, list := range signalLists {
		gp, gok := h.first(k)
		wp, wok := anyPhrase(text, list)
		if gp != wp || gok != wok {
			t.Fatalf("list %d over %q: %q %v, anyPhrase %q %v", k, text, gp, gok, wp, wok)
		}
		gp, gok = h.says(text, k)
		wp, wok = saysAny(text, list)
		if gp != wp || gok != wok {
			t.Fatalf("list %d over %q: says %q %v, saysAny %q %v", k, text, gp, gok, wp, wok)
		}
	}
}

func TestSignalPhrasesFixtures(t *testing.T) {
	if len(signalLists) != len(signalMatcher.lists)-1 || phrFetch != len(signalLists)-1 {
		t.Fatal("signalLists and signalMatcher differ")
	}
	for _, m := range []*phraseMatcher{signalMatcher, injectionMatcher} {
		if len(m.groups) > 255 {
			t.Fatalf("%d byte pairs: the bucket table holds 255", len(m.groups))
		}
	}
	for _, s := range fixtureTexts(t) {
		sameSignalPhrases(t, s)
		sameSignalPhrases(t, strings.ToLower(s))
		sameSignalPhrases(t, strings.ToLower(clip(descriptionBody(s), maxSignalText)))
		sameSignalPhrases(t, strings.ToLower(descriptionLead(s)))
	}
	for _, list := range signalLists {
		for _, p := range list {
			sameSignalPhrases(t, "x "+p+" "+p)
			sameSignalPhrases(t, "never "+p)
		}
	}
}

func FuzzSignalPhrases(f *testing.F) {
	for _, s := range []string{"", "p", "charge the card, permanently; in bulk", "never run a command; run sql", "does not execute code but runs sql", "the file at the url"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sameSignalPhrases(t, s)
	})
}

// TestPhraseMatcherShort checks the matcher of phrases shorter than four
// bytes (without the four-byte filter) against strings.Index.
func TestPhraseMatcherShort(t *testing.T) {
	lists := [][]string{{"ab", "the", "ab c"}, {"in", "ing", "e "}}
	m := newPhraseMatcher(lists...)
	for _, s := range append(fixtureTexts(t), "ab", "xab c", "a", "") {
		h := hits(m, s)
		for k, list := range lists {
			gp, gok := h.first(k)
			wp, wok := anyPhrase(s, list)
			if gp != wp || gok != wok {
				t.Fatalf("list %d over %q: %q %v, anyPhrase %q %v", k, s, gp, gok, wp, wok)
			}
		}
	}
}

func sameQuoteShort(t *testing.T, s string) {
	t.Helper()
	for _, max := range []int{0, 1, 20, 60, 80} {
		if got, want := quoteShort(s, max), quoteShortRunes(s, max); got != want {
			t.Fatalf("quoteShort(%q, %d) = %q, want %q", s, max, got, want)
		}
	}
}

func TestQuoteShortFixtures(t *testing.T) {
	for _, s := range fixtureTexts(t) {
		sameQuoteShort(t, s)
		sameQuoteShort(t, firstSentence(s))
	}
}

func FuzzQuoteShort(f *testing.F) {
	for _, s := range []string{"", "a", "it's", "get_user", "x\u200by", "\xff", "tab\there", strings.Repeat("a", 60), strings.Repeat("a", 61), "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sameQuoteShort(t, s)
	})
}

// TestNormASCIIBlocks compares the normalisers on strings of the bytes
// at the edges of what normASCII reads eight at a time: spaces at the
// borders of the blocks, the bytes around the capitals and the ends of
// printable ASCII.
func TestNormASCIIBlocks(t *testing.T) {
	alphabet := []byte{' ', ' ', ' ', 'A', 'Z', '@', '[', 'a', 'z', '`', '{', '~', '!', '\t', '\n', '\r', 0x7F, 0x80, 0x1F, 0x00, 0xC3, 0xA9}
	rng := uint64(1)
	for n := 0; n < 200000; n++ {
		b := make([]byte, n%40)
		for i := range b {
			rng = rng*6364136223846793005 + 1442695040888963407
			b[i] = alphabet[(rng>>33)%uint64(len(alphabet))]
		}
		sameNorm(t, string(b))
	}
}

// samePin checks the pin Classify writes while it walks the schemas
// against Pin's, which writes the canonical form on its own.
func samePin(t *testing.T, tool Tool) {
	t.Helper()
	if got, want := Classify(tool).Pin, Pin(tool); got != want {
		t.Fatalf("%q: Classify's pin %s, Pin %s\n%s", tool.Name, got, want, Canonical(tool))
	}
}

func TestPinWalkFixtures(t *testing.T) {
	for _, tool := range fixtureTools(t) {
		samePin(t, tool)
	}
	deep := strings.Repeat(`{"a":[`, 80) + `"x",1,true,null` + strings.Repeat(`]}`, 80)
	many := `{"properties":{"p":{"type":"string","enum":["a","b"]}`
	var b strings.Builder
	b.WriteString(`{"properties":{`)
	for i := 0; i < 12000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"p` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `_` + strings.Repeat("y", i/26%5) + `":{"type":"string","enum":["a",1.5e3]}`)
	}
	b.WriteString(`}}`)
	big := `{"a":"` + strings.Repeat("long text ", 70000) + `","b":{"c":"d","e":[1,2,{"f":"g"}]}}`
	for _, s := range []string{`null`, `{}`, `[]`, `"x"`, `1`, `{"a":null}`, `{"a":1e5,"b":-0.0}`, "{\"a\":\"\xff\"}", `{"a":`, deep, many + `}}`, b.String(), big} {
		for _, tool := range []Tool{
			{Name: "t", InputSchema: json.RawMessage(s)},
			{Name: "t", Title: "T", Description: "d", OutputSchema: json.RawMessage(s), Annotations: json.RawMessage(`{"readOnlyHint":true}`)},
			{Name: "t", InputSchema: json.RawMessage(`{"type":"object"}`), OutputSchema: json.RawMessage(s), Annotations: json.RawMessage(s)},
			{Name: "t", InputSchema: json.RawMessage(big), Annotations: json.RawMessage(s)},
		} {
			samePin(t, tool)
		}
	}
}

func FuzzPinWalk(f *testing.F) {
	f.Add("a", "b", `{"type":"object","properties":{"x":{"type":"string"}}}`, `{"readOnlyHint":false}`)
	f.Add("", "", "", "")
	f.Add("x", "y", `null`, `[1,{"a":null}]`)
	f.Add("x", "y", "{\"a\":\"\xff\"}", `{"a":1}{`)
	f.Fuzz(func(t *testing.T, name, desc, schema, ann string) {
		tool := Tool{Name: name, Description: desc}
		if schema != "" {
			tool.InputSchema = json.RawMessage(schema)
			tool.OutputSchema = json.RawMessage(schema)
		}
		if ann != "" {
			tool.Annotations = json.RawMessage(ann)
		}
		samePin(t, tool)
	})
}

// schemaViewRef is schemaView over a decoded value: the members
// themselves (nil when absent).
type schemaViewRef struct {
	typ, format, desc, ap, items, enum               any
	hasMaxLength, hasConst, hasEnum, hasProps, hasAP bool
	hasRef, hasAnyOf, hasAllOf, hasOneOf             bool
}

// viewSchemaRef is viewSchema over a decoded object, by one lookup per
// member.
func viewSchemaRef(s map[string]any) schemaViewRef {
	var v schemaViewRef
	v.typ, v.format, v.desc, v.items = s["type"], s["format"], s["description"], s["items"]
	_, v.hasMaxLength = s["maxLength"]
	_, v.hasConst = s["const"]
	v.enum, v.hasEnum = s["enum"]
	_, v.hasProps = s["properties"]
	v.ap, v.hasAP = s["additionalProperties"]
	_, v.hasRef = s["$ref"]
	_, v.hasAnyOf = s["anyOf"]
	_, v.hasAllOf = s["allOf"]
	_, v.hasOneOf = s["oneOf"]
	return v
}

// sameViews checks viewSchema against viewSchemaRef on every object of
// the tree below node n.
func sameViews(t *testing.T, tr *jsonTree, n int32) {
	t.Helper()
	switch tr.kindOf(n) {
	case treeArray:
		for _, x := range tr.children(n) {
			sameViews(t, tr, x)
		}
	case treeObject:
		v := viewSchema(tr, n)
		got := schemaViewRef{typ: tr.toAny(v.typ), format: tr.toAny(v.format), desc: tr.toAny(v.desc), ap: tr.toAny(v.ap),
			items: tr.toAny(v.items), enum: tr.toAny(v.enum), hasMaxLength: v.hasMaxLength, hasConst: v.hasConst,
			hasEnum: v.hasEnum, hasProps: v.hasProps, hasAP: v.ap >= 0, hasRef: v.hasRef, hasAnyOf: v.hasAnyOf,
			hasAllOf: v.hasAllOf, hasOneOf: v.hasOneOf}
		if want := viewSchemaRef(tr.toAny(n).(map[string]any)); !reflect.DeepEqual(got, want) {
			t.Fatalf("viewSchema(%s) = %+v, want %+v", tr.appendCanon(nil, n), got, want)
		}
		for _, x := range tr.children(n) {
			sameViews(t, tr, x)
		}
	}
}

func TestViewSchemaFixtures(t *testing.T) {
	var tr jsonTree
	for _, tool := range fixtureTools(t) {
		for _, raw := range [][]byte{tool.InputSchema, tool.OutputSchema, tool.Annotations} {
			if v, err := tr.parse(raw); err == nil {
				sameViews(t, &tr, v)
			}
		}
	}
	big := map[string]any{}
	for i, k := range []string{"type", "format", "description", "maxLength", "const", "enum", "properties",
		"additionalProperties", "$ref", "anyOf", "allOf", "oneOf", "items"} {
		big[k] = json.Number(strconv.Itoa(i))
		big[k+"x"] = json.Number(strconv.Itoa(i))
	}
	sameViews(t, &tr, tr.fromAny(big))
}

func FuzzViewSchema(f *testing.F) {
	f.Add(`{"type":["string","null"],"format":"uri","description":"d","maxLength":1,"const":null,"enum":[],"properties":{},"additionalProperties":false,"$ref":"#","anyOf":[],"allOf":[],"oneOf":[],"items":{}}`)
	f.Add(`{"a":{"b":[{"type":"object","x":1}]}}`)
	f.Add(`{"type":"a","type":"b","enum":[1],"enum":null}`)
	f.Fuzz(func(t *testing.T, s string) {
		var tr jsonTree
		if v, err := tr.parse([]byte(s)); err == nil {
			sameViews(t, &tr, v)
		}
	})
}
