/* The category picker: one search box over the category select (select.cat-select[data-category-picker]).
   Typing filters the classes by name, plain word (the option's data-terms: code, name, major class, kind, keywords)
   or code, grouped by kind (部件/事件) and major class; arrows, Enter and Escape work, a tap picks. The select stays
   in the form (hidden) and is what is sent; without this script it is a plain grouped select.
   The matching is the one of cases/selectors.py (category_matches): keep them the same. */
(function () {
  "use strict";

  var SPLIT = /[\s,，、;；\/]+/;
  var counter = 0;

  function words(text) {
    return String(text || "").trim().toLowerCase().split(SPLIT).filter(Boolean);
  }

  function matches(terms, query) {
    var list = words(query);
    var code = terms[0] || "";
    return list.every(function (word) {
      if (/^\d+$/.test(word)) return code.indexOf(word) === 0;
      return terms.some(function (term) {
        return term.indexOf(word) !== -1 || (term.length >= 2 && word.indexOf(term) !== -1);
      });
    });
  }

  function setup(select) {
    var box = select.closest(".cat-picker") || select.parentNode;
    var text = select.dataset;  // the words of the page's language: placeholder, nothing found, how many
    var label = document.querySelector('label[for="' + select.id + '"]');
    var n = ++counter;
    var items = [];
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      Array.prototype.forEach.call(group.querySelectorAll("option"), function (opt) {
        if (!opt.value) return;
        items.push({
          value: opt.value,
          name: opt.textContent,
          code: opt.dataset.code || "",
          group: group.label,
          terms: (opt.dataset.terms || opt.textContent.toLowerCase()).split("|"),
        });
      });
    });

    var input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "_search";
    input.className = "cat-search";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", "cat-results-" + n);
    input.placeholder = text.placeholder || "";
    var help = document.getElementById(select.id + "_helptext");
    var list = document.createElement("div");
    list.id = "cat-results-" + n;
    list.className = "cat-results";
    list.setAttribute("role", "listbox");
    if (label) list.setAttribute("aria-label", label.textContent.replace("*", "").trim());
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "cat-status help";
    status.setAttribute("aria-live", "polite");
    var chosen = document.createElement("p");
    chosen.className = "cat-chosen";
    chosen.id = "cat-chosen-" + n;
    input.setAttribute("aria-describedby", chosen.id + (help ? " " + help.id : ""));

    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(list, select);
    select.parentNode.insertBefore(status, select);
    select.parentNode.insertBefore(chosen, select);
    if (label) label.htmlFor = input.id;

    var shown = [];
    var active = -1;

    function itemFor(value) {
      for (var i = 0; i < items.length; i++) if (items[i].value === value) return items[i];
      return null;
    }

    function showChosen() {
      var item = itemFor(select.value);
      chosen.textContent = item ? item.group + " › " + item.name + (item.code ? " · " + item.code : "") : "";
      chosen.hidden = !item;
      return item;
    }

    function setActive(i) {
      var nodes = list.querySelectorAll('[role="option"]');
      if (active >= 0 && nodes[active]) nodes[active].classList.remove("is-active");
      active = i;
      if (i >= 0 && nodes[i]) {
        nodes[i].classList.add("is-active");
        input.setAttribute("aria-activedescendant", nodes[i].id);
        nodes[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function render() {
      var query = input.value;
      var picked = itemFor(select.value);
      if (picked && query === picked.name) query = "";  // the box shows the choice: offer everything again
      shown = items.filter(function (item) { return matches(item.terms, query); });
      list.innerHTML = "";
      active = -1;
      var lastGroup = null;
      var groupEl = null;
      shown.forEach(function (item, i) {
        if (item.group !== lastGroup) {
          lastGroup = item.group;
          groupEl = document.createElement("div");
          groupEl.className = "cat-group";
          groupEl.setAttribute("role", "group");
          var head = document.createElement("div");
          head.className = "cat-group-head";
          head.id = list.id + "-g" + i;
          head.textContent = item.group;
          groupEl.setAttribute("aria-labelledby", head.id);
          groupEl.appendChild(head);
          list.appendChild(groupEl);
        }
        var opt = document.createElement("div");
        opt.className = "cat-option";
        opt.id = list.id + "-o" + i;
        opt.setAttribute("role", "option");
        opt.setAttribute("aria-selected", item.value === select.value ? "true" : "false");
        opt.dataset.value = item.value;
        var name = document.createElement("span");
        name.className = "cat-name";
        name.textContent = item.name;
        opt.appendChild(name);
        if (item.code) {
          var code = document.createElement("span");
          code.className = "cat-code";
          code.textContent = item.code;
          opt.appendChild(code);
        }
        groupEl.appendChild(opt);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      if (!shown.length) {
        status.textContent = text.none || "";
      } else {
        status.textContent = (text.found || "{count}").replace("{count}", String(shown.length));
      }
    }

    function pick(item) {
      select.value = item.value;
      input.value = item.name;
      showChosen();
      close();
      status.textContent = "";
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    input.addEventListener("input", render);
    input.addEventListener("focus", function () { if (list.hidden) render(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) render();
        if (!shown.length) return;
        var step = e.key === "ArrowDown" ? 1 : -1;
        setActive((active + step + shown.length) % shown.length);
      } else if (e.key === "Enter") {
        if (list.hidden) return;
        e.preventDefault();  // Enter picks; it does not send the form
        if (active >= 0) pick(shown[active]);
        else if (shown.length === 1) pick(shown[0]);
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); close(); }
      } else if (e.key === "Tab") {
        close();
      }
    });
    list.addEventListener("mousedown", function (e) { e.preventDefault(); });  // keep the focus in the box
    list.addEventListener("click", function (e) {
      var node = e.target.closest('[role="option"]');
      if (!node) return;
      var item = itemFor(node.dataset.value);
      if (item) pick(item);
    });
    document.addEventListener("click", function (e) {
      if (!box.contains(e.target)) close();
    });

    var initial = showChosen();
    if (initial) input.value = initial.name;
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-category-picker]"), setup);
})();
