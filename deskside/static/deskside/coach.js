// The plain-language coach in every composer (see deskside/coach/views.py).
//
// A panel ([data-coach-panel]) names its text box with data-coach-for. While someone
// writes, the draft is checked (debounced) and the coach's findings are shown twice:
// highlighted in place, on a copy of the text laid exactly under the transparent box, and
// as a list with one-click "Use …", "Add explanation" and "Remove" buttons. The meter reads
// like "Reads like grade 9 · 2 terms to explain".
//
// A panel with data-coach-check also looks once more when its form is sent: if warnings
// remain it asks "Alex might not know: VPN, reimage" with Review / Send anyway. It never
// stops a send, and internal notes (the composer's data-kind="note") are never checked.
// Without this script the panel stays hidden and every form works as before.
"use strict";

(function () {
  const doc = document;
  const DEBOUNCE_MS = 400;
  const TERM_KINDS = ["jargon", "acronym"];

  function strings(panel) {
    const node = panel.querySelector("[data-coach-strings]");
    try {
      return node ? JSON.parse(node.textContent || "{}") : {};
    } catch (error) {
      return {};
    }
  }

  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : match;
    });
  }

  // The server counts characters as Python does (code points); JavaScript strings count
  // UTF-16 units, which differ after an emoji. Map one to the other.
  function codePointOffsets(text) {
    const offsets = [0];
    let unit = 0;
    for (const char of text) {
      unit += char.length;
      offsets.push(unit);
    }
    return offsets;
  }

  function Coach(panel) {
    this.panel = panel;
    this.form = null;
    this.text = strings(panel);
    this.meter = panel.querySelector("[data-coach-meter]");
    this.list = panel.querySelector("[data-coach-issues]");
    this.timer = 0;
    this.sequence = 0;
    this.controller = null;
    this.report = null; // { text, data }
    this.bypass = false;
    panel.hidden = false;
    this.attach();
  }

  Coach.prototype.field = function () {
    const field = doc.getElementById(this.panel.dataset.coachFor || "");
    return field instanceof HTMLTextAreaElement ? field : null;
  };

  Coach.prototype.active = function () {
    // Internal notes are for colleagues: the coach stays out of them.
    return !(this.form && this.form.dataset.kind === "note");
  };

  // Lay a copy of the text under the box, styled to wrap exactly as the box does.
  Coach.prototype.attach = function () {
    const field = this.field();
    if (!field) return;
    this.form = field.form;
    let wrap = field.parentElement;
    if (!wrap || !wrap.classList.contains("coach-field")) {
      wrap = doc.createElement("div");
      wrap.className = "coach-field";
      field.parentNode.insertBefore(wrap, field);
      wrap.appendChild(field);
    }
    let backdrop = wrap.querySelector(".coach-backdrop");
    if (!backdrop) {
      backdrop = doc.createElement("div");
      backdrop.className = "coach-backdrop";
      backdrop.setAttribute("aria-hidden", "true");
      wrap.insertBefore(backdrop, field);
    }
    this.backdrop = backdrop;
    field.classList.add("coach-field__input");
    this.copyStyle();
    if (window.ResizeObserver && !field.dataset.coachObserved) {
      field.dataset.coachObserved = "true";
      const self = this;
      new ResizeObserver(function () {
        self.copyStyle();
      }).observe(field);
    }
  };

  Coach.prototype.copyStyle = function () {
    const field = this.field();
    if (!field || !this.backdrop) return;
    const style = window.getComputedStyle(field);
    const copy = [
      "fontFamily", "fontSize", "fontWeight", "lineHeight", "letterSpacing", "wordSpacing",
      "paddingTop", "paddingRight", "paddingBottom", "paddingLeft", "borderTopWidth",
      "borderRightWidth", "borderBottomWidth", "borderLeftWidth", "boxSizing", "textIndent",
      "tabSize", "borderTopLeftRadius", "borderTopRightRadius", "borderBottomLeftRadius",
      "borderBottomRightRadius",
    ];
    copy.forEach(function (name) {
      this.backdrop.style[name] = style[name];
    }, this);
    this.backdrop.style.width = field.offsetWidth + "px";
    this.backdrop.style.height = field.offsetHeight + "px";
    this.backdrop.scrollTop = field.scrollTop;
  };

  Coach.prototype.schedule = function () {
    window.clearTimeout(this.timer);
    const self = this;
    this.timer = window.setTimeout(function () {
      self.check();
    }, DEBOUNCE_MS);
  };

  // Ask the server about the box's current text; resolves to the report or null.
  Coach.prototype.check = function () {
    const field = this.field();
    if (!field || !this.active()) {
      this.clear();
      return Promise.resolve(null);
    }
    const text = field.value;
    if (this.report && this.report.text === text) return Promise.resolve(this.report);
    if (!text.trim()) {
      this.clear();
      return Promise.resolve(null);
    }
    if (this.controller) this.controller.abort();
    const controller = window.AbortController ? new AbortController() : null;
    this.controller = controller;
    const sequence = ++this.sequence;
    const body = new FormData();
    body.append("text", text);
    if (this.panel.dataset.coachTicket) body.append("ticket", this.panel.dataset.coachTicket);
    const token = doc.querySelector("input[name='csrfmiddlewaretoken']");
    const self = this;
    this.panel.setAttribute("aria-busy", "true");
    return window
      .fetch(this.panel.dataset.coachUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: token ? { "X-CSRFToken": token.value } : {},
        signal: controller ? controller.signal : undefined,
      })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        if (sequence !== self.sequence) return null;
        self.panel.removeAttribute("aria-busy");
        if (!result.ok) {
          self.showError(result.data && result.data.error);
          return null;
        }
        self.report = { text: text, data: result.data };
        self.render();
        return self.report;
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return null;
        if (sequence === self.sequence) {
          self.panel.removeAttribute("aria-busy");
          self.showError("");
        }
        return null;
      });
  };

  Coach.prototype.clear = function () {
    this.report = null;
    if (this.meter) this.meter.textContent = "";
    if (this.list) this.list.replaceChildren();
    if (this.backdrop) this.backdrop.replaceChildren();
  };

  Coach.prototype.showError = function (message) {
    this.report = null;
    if (this.meter) this.meter.textContent = message || this.text.unavailable || "";
    if (this.list) this.list.replaceChildren();
    if (this.backdrop) this.backdrop.replaceChildren();
  };

  // Issues worth pointing at in the text: everything but the whole-text reading score.
  function marked(issues) {
    return issues.filter(function (issue) {
      return issue.kind !== "readability";
    });
  }

  Coach.prototype.render = function () {
    const report = this.report;
    if (!report) return;
    const data = report.data;
    const text = report.text;
    const units = codePointOffsets(text);
    if (this.meter) this.meter.textContent = data.summary;
    // The highlighted copy under the box.
    const backdrop = this.backdrop;
    if (backdrop) {
      const parts = [];
      let at = 0;
      marked(data.issues).forEach(function (issue) {
        const start = units[issue.start];
        const end = units[issue.end];
        if (start === undefined || end === undefined || start < at) return;
        parts.push(doc.createTextNode(text.slice(at, start)));
        const mark = doc.createElement("mark");
        mark.className = "coach-mark coach-mark--" + issue.severity;
        mark.textContent = text.slice(start, end);
        parts.push(mark);
        at = end;
      });
      // A trailing newline needs a character after it to take up its line.
      parts.push(doc.createTextNode(text.slice(at) + "\u200b"));
      backdrop.replaceChildren.apply(backdrop, parts);
      const field = this.field();
      if (field) backdrop.scrollTop = field.scrollTop;
    }
    // The list, with what can be done about each.
    const list = this.list;
    if (!list) return;
    const items = data.issues.map(function (issue, index) {
      return this.item(issue, index);
    }, this);
    list.replaceChildren.apply(list, items);
  };

  Coach.prototype.item = function (issue, index) {
    const t = this.text;
    const li = doc.createElement("li");
    li.className = "coach-issue coach-issue--" + issue.severity;
    li.dataset.coachKind = issue.kind;
    const head = doc.createElement("p");
    head.className = "coach-issue__message";
    head.textContent = issue.message;
    li.appendChild(head);
    if (issue.explanation) {
      const explain = doc.createElement("p");
      explain.className = "coach-issue__explanation";
      explain.textContent = issue.explanation;
      li.appendChild(explain);
    }
    const actions = doc.createElement("div");
    actions.className = "coach-issue__actions";
    const self = this;
    function button(label, action, value) {
      const b = doc.createElement("button");
      b.type = "button";
      b.className = "button button--quiet button--small";
      b.textContent = label;
      b.dataset.coachAction = action;
      b.addEventListener("click", function () {
        self.apply(index, action, value);
      });
      actions.appendChild(b);
    }
    if (issue.kind !== "readability" && issue.kind !== "long_sentence") {
      (issue.suggestions || []).slice(0, 3).forEach(function (suggestion) {
        if (issue.kind === "condescending") return;
        button(format(t.use, { words: suggestion }), "replace", suggestion);
      });
    }
    if (TERM_KINDS.indexOf(issue.kind) !== -1 && issue.explanation) {
      button(t.explain || "Add explanation", "explain", issue.explanation);
    }
    if (issue.kind === "condescending") button(t.remove || "Remove", "remove", "");
    if (actions.childNodes.length) li.appendChild(actions);
    return li;
  };

  function sentenceStart(text, start) {
    const before = text.slice(0, start).replace(/\s+$/, "");
    return before === "" || /[.!?:\n]$/.test(before);
  }

  function lowerFirst(words) {
    // "A secure link ..." -> "a secure link ...", but keep "VPN" or "IT" as written.
    if (/^[A-Z](?:[a-z]|\s)/.test(words)) return words.charAt(0).toLowerCase() + words.slice(1);
    return words;
  }

  // Change the text as the button says, keep the writer's place, and count it.
  Coach.prototype.apply = function (index, action, value) {
    const field = this.field();
    const report = this.report;
    if (!field || !report || report.text !== field.value) {
      this.check();
      return;
    }
    const issue = report.data.issues[index];
    const units = codePointOffsets(report.text);
    const start = units[issue.start];
    const end = units[issue.end];
    const text = field.value;
    if (text.slice(start, end) !== issue.text) {
      this.check();
      return;
    }
    let replacement = issue.text;
    let from = start;
    let to = end;
    if (action === "replace") {
      replacement = value;
      if (sentenceStart(text, start)) {
        replacement = replacement.charAt(0).toUpperCase() + replacement.slice(1);
      }
    } else if (action === "explain") {
      const gloss = lowerFirst(String(value).trim().replace(/[.\s]+$/, ""));
      replacement = issue.text + " (" + gloss + ")";
    } else if (action === "remove") {
      replacement = "";
      // Take one space with the word, so "Simply restart" becomes "Restart".
      if (text.charAt(to) === " ") to += 1;
      else if (text.charAt(from - 1) === " ") from -= 1;
      if (sentenceStart(text, from) && to < text.length) {
        const next = text.charAt(to);
        field.value = text.slice(0, from) + next.toUpperCase() + text.slice(to + 1);
        this.finishEdit(field, from + 1);
        return;
      }
    }
    field.value = text.slice(0, from) + replacement + text.slice(to);
    this.finishEdit(field, from + replacement.length);
  };

  Coach.prototype.finishEdit = function (field, caret) {
    field.focus();
    field.setSelectionRange(caret, caret);
    const counter = this.form && this.form.querySelector("[data-coach-applied]");
    if (counter) counter.value = String((parseInt(counter.value, 10) || 0) + 1);
    // Let other listeners (presence, drafts) know the text changed.
    field.dispatchEvent(new Event("input", { bubbles: true }));
    this.check();
  };

  // The check on send: once, gently, and never in the way.
  Coach.prototype.onSubmit = function (event) {
    if (this.bypass || !this.panel.hasAttribute("data-coach-check") || !this.active()) return;
    const field = this.field();
    if (!field || !field.value.trim()) return;
    event.preventDefault();
    const submitter = event.submitter || null;
    const self = this;
    this.check().then(function (report) {
      const warnings = report
        ? report.data.issues.filter(function (issue) {
            return issue.severity === "warning";
          })
        : [];
      if (!warnings.length) {
        self.send(submitter);
        return;
      }
      self.ask(report.data, warnings, submitter);
    });
  };

  // Later, not now: a form ignores a new submit while it is still handling the first one,
  // and an answer already at hand would otherwise arrive during that handling.
  Coach.prototype.send = function (submitter) {
    const self = this;
    window.setTimeout(function () {
      self.bypass = true;
      if (self.form.requestSubmit) self.form.requestSubmit(submitter || undefined);
      else self.form.submit();
      self.bypass = false;
    }, 0);
  };

  Coach.prototype.ask = function (data, warnings, submitter) {
    const dialog = this.panel.querySelector("[data-coach-dialog]");
    if (!(dialog instanceof HTMLDialogElement)) {
      this.send(submitter);
      return;
    }
    const t = this.text;
    const terms = [];
    warnings.forEach(function (issue) {
      if (TERM_KINDS.indexOf(issue.kind) !== -1 && terms.indexOf(issue.text) === -1) {
        terms.push(issue.text);
      }
    });
    const reader = data.reader || t.reader || "";
    const message = terms.length
      ? format(t.terms, { reader: reader, terms: terms.join(", ") })
      : format(t.other, { summary: data.summary });
    dialog.querySelector("[data-coach-dialog-text]").textContent = message;
    const self = this;
    const review = dialog.querySelector("[data-coach-review]");
    const anyway = dialog.querySelector("[data-coach-send]");
    review.onclick = function () {
      dialog.close();
      const first = self.list && self.list.querySelector("button");
      const field = self.field();
      if (first) first.focus();
      else if (field) field.focus();
    };
    anyway.onclick = function () {
      dialog.close();
      self.send(submitter);
    };
    dialog.showModal();
    review.focus();
  };

  // --- Wiring ---------------------------------------------------------------------
  const coaches = [];

  function setUp(root) {
    root.querySelectorAll("[data-coach-panel]").forEach(function (panel) {
      if (panel.dataset.coachReady) return;
      panel.dataset.coachReady = "true";
      const coach = new Coach(panel);
      coaches.push(coach);
      if (coach.field() && coach.field().value.trim()) coach.schedule();
    });
  }

  function coachFor(element) {
    for (const coach of coaches) {
      if (coach.field() === element) return coach;
    }
    return null;
  }

  doc.addEventListener("input", function (event) {
    const coach = coachFor(event.target);
    if (!coach) return;
    // Highlights belong to the old text; hide them until the new check comes back.
    if (coach.report && coach.report.text !== event.target.value && coach.backdrop) {
      coach.backdrop.replaceChildren(doc.createTextNode(event.target.value + "\u200b"));
    }
    coach.schedule();
  });

  doc.addEventListener(
    "scroll",
    function (event) {
      const coach = coachFor(event.target);
      if (coach && coach.backdrop) coach.backdrop.scrollTop = event.target.scrollTop;
    },
    true
  );

  // Switching the composer between reply and note turns the coach on or off.
  doc.addEventListener("change", function (event) {
    const target = event.target;
    if (!(target instanceof HTMLInputElement) || target.name !== "kind") return;
    coaches.forEach(function (coach) {
      if (coach.form && coach.form.contains(target)) {
        window.setTimeout(function () {
          coach.panel.classList.toggle("coach--off", !coach.active());
          coach.report = null;
          coach.check();
        }, 0);
      }
    });
  });

  doc.addEventListener(
    "submit",
    function (event) {
      for (const coach of coaches) {
        if (coach.form === event.target) coach.onSubmit(event);
      }
    },
    true
  );

  // htmx may swap the text box (a canned reply inserted): lay the copy under it again.
  doc.addEventListener("htmx:afterSettle", function () {
    setUp(doc);
    coaches.forEach(function (coach) {
      const field = coach.field();
      if (field && !field.classList.contains("coach-field__input")) {
        coach.attach();
        coach.report = null;
        coach.schedule();
      }
    });
  });

  setUp(doc);
  doc.documentElement.dataset.coachReady = "true";
})();
