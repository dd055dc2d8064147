/* geo_service offline reference map: unit outlines, names and (Bali) villages drawn on canvas
   tiles from /basemap/{z}/{x}/{y}.json, when no tile server is configured or it does not answer.
   Tiles come in tile pixels (see geo_service/geo/basemap.py): no projection happens here. */
(function () {
  "use strict";
  var SEA = "#cfe2ee";
  var LAND = "#f3efe4";
  var LINES = {
    polda: {width: 2.4, color: "#4b3f7a", dash: null},
    polres: {width: 1.5, color: "#6d5fa3", dash: null},
    polsek: {width: 0.9, color: "#8f86b8", dash: [5, 3]},
    desa: {width: 0.6, color: "#b3accd", dash: [2, 3]}
  };
  var LABELS = {
    polda: {font: "bold 14px sans-serif", color: "#2e2650"},
    polres: {font: "bold 12px sans-serif", color: "#3b3166"},
    polsek: {font: "12px sans-serif", color: "#3b3166"},
    desa: {font: "11px sans-serif", color: "#4f4a66"}
  };
  var ORDER = ["desa", "polsek", "polres", "polda"];

  function path(ctx, flat) {
    ctx.moveTo(flat[0], flat[1]);
    for (var i = 2; i < flat.length; i += 2) { ctx.lineTo(flat[i], flat[i + 1]); }
  }

  function draw(canvas, data, scale) {
    var ctx = canvas.getContext("2d");
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    ctx.fillStyle = LAND;
    (data.land || []).forEach(function (rings) {
      ctx.beginPath();
      rings.forEach(function (ring) { path(ctx, ring); ctx.closePath(); });
      ctx.fill("evenodd");
    });
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    ORDER.forEach(function (level) {
      var lines = (data.lines || {})[level];
      if (!lines) { return; }
      var style = LINES[level];
      ctx.strokeStyle = style.color;
      ctx.lineWidth = style.width;
      ctx.setLineDash(style.dash || []);
      ctx.beginPath();
      lines.forEach(function (flat) { path(ctx, flat); });
      ctx.stroke();
    });
    ctx.setLineDash([]);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    (data.labels || []).forEach(function (label) {
      var style = LABELS[label[3]] || LABELS.polsek;
      ctx.font = style.font;
      ctx.lineWidth = 3;
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.strokeText(label[2], label[0], label[1]);
      ctx.fillStyle = style.color;
      ctx.fillText(label[2], label[0], label[1]);
    });
  }

  var Reference = L.GridLayer.extend({
    options: {url: "/basemap/{z}/{x}/{y}.json", maxNativeZoom: 18, maxZoom: 19, className: "gs-reference-map",
              attribution: ""},
    createTile: function (coords, done) {
      var tile = document.createElement("canvas");
      var size = this.getTileSize();
      var ratio = window.devicePixelRatio || 1;
      tile.width = Math.round(size.x * ratio);
      tile.height = Math.round(size.y * ratio);
      tile.style.width = size.x + "px";
      tile.style.height = size.y + "px";
      var url = L.Util.template(this.options.url, {z: coords.z, x: coords.x, y: coords.y});
      fetch(url, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status)); })
        .then(function (data) { draw(tile, data, ratio * size.x / 256); done(null, tile); })
        .catch(function (err) { done(err, tile); });
      return tile;
    }
  });

  function goOffline(map, layer) {
    map.getContainer().style.background = SEA;
    map.getContainer().setAttribute("data-basemap", "reference");
    if (!map.hasLayer(layer)) { layer.addTo(map); }
    layer.bringToBack();
  }

  window.GeoServiceBasemap = {
    /* The reference map on ``map``: at once when there are no tiles, else as soon as two tiles
       fail before any has loaded (no internet on the intranet), and it stays. */
    attach: function (map, tiles, options) {
      var layer = new Reference(options || {});
      map.getContainer().setAttribute("data-basemap", tiles ? "tiles" : "reference");
      if (!tiles) { goOffline(map, layer); return layer; }
      var loaded = 0;
      var failed = 0;
      tiles.on("tileload", function () { loaded += 1; });
      tiles.on("tileerror", function () {
        failed += 1;
        if (failed >= 2 && loaded === 0) { goOffline(map, layer); }
      });
      return layer;
    }
  };
}());
