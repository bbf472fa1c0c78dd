// Downloads and the balance import, through the admin API with fresh session tokens.
(function () {
  "use strict";

  function download(url, filename, status) {
    if (status) { status.textContent = "Preparing the file…"; }
    return window.kanta.fetch(url).then(function (response) {
      if (!response.ok) { throw new Error("the server answered " + response.status); }
      return response.blob();
    }).then(function (blob) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = filename;
      document.body.appendChild(link);
      link.click();
      link.remove();
      if (status) { status.textContent = "Downloaded " + filename + "."; }
    }).catch(function (error) {
      if (status) { status.textContent = "The export failed: " + error.message; }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-export]");
    if (!button) { return; }
    event.preventDefault();
    download(button.getAttribute("data-export"), button.getAttribute("data-filename") || "export",
      document.querySelector("[data-export-status]"));
  });

  window.kanta = Object.assign(window.kanta || {}, { download: download });
})();
