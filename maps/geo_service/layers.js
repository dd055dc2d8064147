/*
 * geo_service map helpers (loaded by every page that geo_service.maps renders).
 *
 * All text that may come from uploaded files or user input (unit names, station names, incident
 * categories, problem messages) is put into the page with textContent only, never innerHTML:
 * Leaflet treats a *string* given to bindTooltip/bindPopup as HTML, so we always give it a DOM
 * element built here.
 *
 * GeoJSON stays in GeoJSON (lon, lat) order and L.geoJSON reads it as such; point lists that
 * the Python side sends are already [lat, lon] (converted in one place, geo_service.maps.base).
 */
(function (window, document) {
  'use strict';

  var L = window.L;

  function asText(value) {
    if (value === null || value === undefined) {
      return '';
    }
    return String(value);
  }

  /*
   * Build a block of text lines. Each line is a string, a [label, value] pair, or
   * {color, text} for a legend row (color is one of our own palette values).
   */
  function textBlock(lines) {
    var block = document.createElement('div');
    block.className = 'gs-text';
    (lines || []).forEach(function (line, index) {
      var row = document.createElement('div');
      row.className = index === 0 ? 'gs-line gs-title' : 'gs-line';
      if (Array.isArray(line)) {
        var label = document.createElement('span');
        label.className = 'gs-label';
        label.textContent = asText(line[0]) + ': ';
        row.appendChild(label);
        row.appendChild(document.createTextNode(asText(line[1])));
      } else if (line !== null && typeof line === 'object') {
        var swatch = document.createElement('span');
        swatch.className = 'gs-swatch';
        swatch.style.backgroundColor = asText(line.color);
        row.appendChild(swatch);
        row.appendChild(document.createTextNode(asText(line.text)));
      } else {
        row.textContent = asText(line);
      }
      block.appendChild(row);
    });
    return block;
  }

  /*
   * Leaflet makes a clickable marker a keyboard button (role=button, tabindex=0) without a name;
   * screen readers then say only "button". Its name is the first line of its text, set again
   * whenever Leaflet builds the icon element anew (on add, and on setIcon, which folium calls
   * after our text is bound; clusters add and remove markers). Leaflet has no event for that.
   */
  function nameMarker(layer, lines) {
    var first = (lines || [])[0];
    var name = Array.isArray(first) ? asText(first[0]) + ': ' + asText(first[1])
      : asText(first !== null && typeof first === 'object' ? first.text : first);
    if (!name || !(layer instanceof L.Marker)) {
      return;
    }
    var initIcon = layer._initIcon;
    var apply = function () {
      var icon = layer.getElement();
      if (icon) {
        icon.setAttribute('aria-label', name);
      }
    };
    layer._initIcon = function () {
      initIcon.apply(layer, arguments);
      apply();
    };
    apply();
  }

  function bindText(layer, lines, kind, options) {
    var content = function () { return textBlock(lines); };
    nameMarker(layer, lines);
    if (kind === 'tooltip') {
      layer.bindTooltip(content, options || {});
    } else {
      layer.bindPopup(content, options || {});
    }
    return layer;
  }

  function featureLines(feature, opts) {
    var props = (feature && feature.properties) || {};
    var lines = [];
    if (opts.titleField && props[opts.titleField] !== undefined && props[opts.titleField] !== null) {
      lines.push(asText(props[opts.titleField]));
    } else if (opts.title) {
      lines.push(asText(opts.title));
    }
    (opts.fields || []).forEach(function (pair) {
      var value = props[pair[0]];
      if (value === undefined || value === null || value === '') {
        return;
      }
      if (opts.valueLabels && opts.valueLabels[pair[0]] && opts.valueLabels[pair[0]][value] !== undefined) {
        value = opts.valueLabels[pair[0]][value];
      }
      lines.push([pair[1], value]);
    });
    return lines;
  }

  function styleFor(feature, opts) {
    var style = L.extend({}, opts.style || {});
    var props = (feature && feature.properties) || {};
    if (opts.styleField && opts.styles) {
      var key = props[opts.styleField];
      if (key !== undefined && Object.prototype.hasOwnProperty.call(opts.styles, key)) {
        L.extend(style, opts.styles[key]);
      } else if (opts.styles._default) {
        L.extend(style, opts.styles._default);
      }
    }
    return style;
  }

  /* Options for L.geoJSON: styling, text-only tooltips and popups, points as circle markers. */
  function geoJsonOptions(opts) {
    opts = opts || {};
    return {
      style: function (feature) { return styleFor(feature, opts); },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, L.extend({ radius: 6 }, styleFor(feature, opts)));
      },
      onEachFeature: function (feature, layer) {
        var lines = featureLines(feature, opts);
        if (!lines.length) {
          return;
        }
        if (opts.tooltip !== false) {
          bindText(layer, lines, 'tooltip', { sticky: true });
        }
        if (opts.popup) {
          bindText(layer, lines, 'popup', {});
        }
      }
    };
  }

  var Info = L.Control.extend({
    options: { position: 'bottomleft', className: '' },
    initialize: function (lines, options) {
      L.setOptions(this, options);
      this._lines = lines;
    },
    onAdd: function () {
      var box = L.DomUtil.create('div', 'gs-info leaflet-bar ' + (this.options.className || ''));
      box.appendChild(textBlock(this._lines));
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    }
  });

  function infoControl(map, lines, position, className) {
    var control = new Info(lines, { position: position || 'bottomleft', className: className || '' });
    control.addTo(map);
    return control;
  }

  function fit(layer, map, opts) {
    if (!opts.fit || !map) {
      return;
    }
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12], maxZoom: opts.maxZoom || 15 });
    }
  }

  function addGeoJson(layer, map, data, opts) {
    opts = opts || {};
    if (data) {
      layer.addData(data);
    }
    fit(layer, map, opts);
    return layer;
  }

  /* Fetch a GeoJSON document from our own API (same origin) and add it to `layer`. */
  function loadGeoJson(layer, map, url, opts) {
    opts = opts || {};
    return window.fetch(url, {
      credentials: 'same-origin',
      headers: { Accept: 'application/geo+json, application/json' }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error('HTTP ' + response.status);
      }
      return response.json();
    }).then(function (data) {
      if (!data || (data.type !== 'FeatureCollection' && data.type !== 'Feature')) {
        throw new Error('not GeoJSON');
      }
      addGeoJson(layer, map, data, opts);
      if (map) {
        map.fire('gs:layerloaded', { layer: layer, url: url });
      }
      return layer;
    }).catch(function (error) {
      if (map && opts.errorText) {
        infoControl(map, [opts.errorText], 'bottomleft', 'gs-error');
      }
      if (window.console) {
        window.console.warn('geo_service: could not load layer', url, error);
      }
    });
  }

  /* Points already in [lat, lon] order: {latlng, color, radius, lines, rank}. */
  function addPoints(target, points) {
    (points || []).forEach(function (point) {
      var marker = L.circleMarker(point.latlng, {
        radius: point.radius || 7,
        color: point.color || '#3388ff',
        weight: 2,
        fillColor: point.color || '#3388ff',
        fillOpacity: 0.75,
        gsRank: point.rank || 0
      });
      if (point.lines && point.lines.length) {
        bindText(marker, point.lines, 'popup', {});
        bindText(marker, [point.lines[0]], 'tooltip', {});
      }
      marker.addTo(target);
    });
    return target;
  }

  /*
   * MarkerCluster icon coloured like its most urgent member (highest gsRank), so a cluster
   * holding one unhandled incident is red, not the plugin's default green.
   */
  function clusterIcon(cluster) {
    var best = null;
    cluster.getAllChildMarkers().forEach(function (marker) {
      if (best === null || (marker.options.gsRank || 0) > (best.options.gsRank || 0)) {
        best = marker;
      }
    });
    var color = best ? best.options.fillColor : '#3388ff';
    var outer = document.createElement('div');
    outer.className = 'gs-cluster';
    outer.style.backgroundColor = color;
    var label = document.createElement('span');
    label.textContent = String(cluster.getChildCount());
    outer.appendChild(label);
    return L.divIcon({ html: outer, className: 'gs-cluster-icon', iconSize: L.point(34, 34) });
  }

  window.GeoServiceMaps = {
    clusterIcon: clusterIcon,
    textBlock: textBlock,
    bindText: bindText,
    geoJsonOptions: geoJsonOptions,
    addGeoJson: addGeoJson,
    loadGeoJson: loadGeoJson,
    infoControl: infoControl,
    addPoints: addPoints
  };
}(window, document));
