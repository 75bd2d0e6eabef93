// A small Python highlighter: one pass over the whole source, so strings that span lines
// (docstrings) stay strings. Output is DOM nodes built with textContent: task code and agent
// messages are never parsed as HTML.

const KEYWORDS = new Set(
  ("False None True and as assert async await break class continue def del elif else except " +
    "finally for from global if import in is lambda nonlocal not or pass raise return try " +
    "while with yield match case").split(" "),
);
const BUILTINS = new Set(
  ("print len range int str float dict list set tuple bool bytes open isinstance issubclass " +
    "super object sorted reversed enumerate zip map filter min max sum abs any all iter next " +
    "repr hash id type getattr setattr hasattr round divmod self cls Exception ValueError " +
    "TypeError KeyError IndexError RuntimeError AttributeError OSError StopIteration").split(" "),
);
// comment | string (optional prefix; triple or single quotes; unterminated runs to the end) |
// number | decorator | name
const TOKEN = new RegExp(
  [
    /(#[^\n]*)/.source,
    /((?:[rRbBuUfF]{1,2})?(?:"""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?))/.source,
    /(\b(?:0[xXoObB][\da-fA-F_]+|\d[\d_]*\.?\d*(?:[eE][+-]?\d+)?j?)\b)/.source,
    /(@[A-Za-z_][\w.]*)/.source,
    /([A-Za-z_]\w*)/.source,
  ].join("|"),
  "g",
);

/** Tokens of `source` as [cssClass, text] pairs ("" for plain text), covering all of it. */
export function tokenize(source) {
  const out = [];
  let last = 0;
  let previous = "";
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(source); m; m = TOKEN.exec(source)) {
    if (m[0] === "") { TOKEN.lastIndex++; continue; }
    if (m.index > last) out.push(["", source.slice(last, m.index)]);
    let cls = "";
    if (m[1]) cls = "tok-comment";
    else if (m[2]) cls = "tok-string";
    else if (m[3]) cls = "tok-number";
    else if (m[4]) cls = "tok-deco";
    else if (KEYWORDS.has(m[5])) cls = "tok-kw";
    else if (previous === "def" || previous === "class") cls = "tok-def";
    else if (BUILTINS.has(m[5])) cls = "tok-builtin";
    out.push([cls, m[0]]);
    if (m[5]) previous = m[5];
    last = m.index + m[0].length;
  }
  if (last < source.length) out.push(["", source.slice(last)]);
  return out;
}

/** The source split into lines, each an array of [cssClass, text] pieces. */
export function highlightLines(source) {
  const lines = [[]];
  for (const [cls, text] of tokenize(source)) {
    const parts = text.split("\n");
    parts.forEach((part, i) => {
      if (i > 0) lines.push([]);
      if (part) lines[lines.length - 1].push([cls, part]);
    });
  }
  return lines;
}

/** Append the highlighted pieces of one line to `parent`. */
export function appendPieces(parent, pieces) {
  for (const [cls, text] of pieces) {
    if (!cls) { parent.appendChild(document.createTextNode(text)); continue; }
    const span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    parent.appendChild(span);
  }
}
