// Live updates of the home page: poll the head and reload the block list when it moves.
// The page works without this script.
(function () {
  var shown = document.getElementById('head');
  if (!shown) return;
  setInterval(function () {
    fetch('/api/head').then(function (r) { return r.json(); }).then(function (h) {
      if (String(h.number) !== shown.textContent) { location.reload(); }
    }).catch(function () {});
  }, 2000);
})();
