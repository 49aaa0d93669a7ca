// Import contacts: name what is wrong with a file before it is sent. The server checks every
// upload too, but two refusals happen before the page can answer in words: a body over the
// request size limit, and a body with a NUL byte (the app-wide control-character guard), which
// every real spreadsheet (.xlsx) or picture has.
(function () {
  "use strict";
  var input = document.getElementById("import-file");
  var message = document.getElementById("import-file-size");
  if (!input || !message) return;

  function show(text) {
    input.setCustomValidity(text);
    message.textContent = text;
    message.hidden = !text;
  }

  function notCsv(file) {
    return "“" + file.name + "” is not a CSV file. In Excel or Google Sheets, save or " +
      "download the sheet as “CSV UTF-8” and upload that.";
  }

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    show("");
    if (!file) return;
    var limit = Number(input.dataset.maxBytes);
    if (!/\.(csv|txt|tsv)$/i.test(file.name)) {
      show(notCsv(file));
    } else if (limit && file.size > limit) {
      show("“" + file.name + "” is too large: the limit is " + input.dataset.maxSize +
        ". Split it into smaller files and import each one.");
    } else {
      file.slice(0, 4096).arrayBuffer().then(function (head) {
        if (new Uint8Array(head).indexOf(0) !== -1) show(notCsv(file));
      });
    }
  });
})();
