"""Pure geographic core: shapely, pyproj, numpy and the standard library only.

Conventions, kept everywhere below this package:

* Coordinates are ``(lon, lat)`` in EPSG:4326 (GeoJSON order). Leaflet/Folium order
  ``[lat, lon]`` is produced only in ``geo_service.maps``.
* "Inside a unit" means the unit's polygon *covers* the point, so a point on a border
  belongs somewhere. Ties between neighbours go to the lowest unit code (string order),
  never to row order.
* Distances are geodesic metres on WGS 84 (``pyproj.Geod``); names carry the unit
  (``distance_m``, ``radius_m``). The Geod, metres per degree, the polygonal parts of a
  geometry and areas live in one place, :mod:`geo_service.geo.geometry`.
* Every pyproj transformer is built with ``always_xy=True``.
* Nothing is corrected silently: every change returns a stable reason code.

No Flask and no SQLAlchemy may be imported here (a test walks the imports).
"""
