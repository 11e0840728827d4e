// spine3d web page: draws poses the Python solver computed when the page was written.
// Nothing is solved here: a slider position and a mobility state select a stored pose
// (one transform per vertebra), and every bone follows its vertebra.
"use strict";
(function () {
  const meta = JSON.parse(document.getElementById("spine3d-meta").textContent);
  const api = (window.spine3d = { ready: false, responses: [], meta: meta });
  const $ = (id) => document.getElementById(id);

  function decodeBase64(text) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(text);
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  async function inflate(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer();
  }

  const TYPES = { uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, uint32: Uint32Array, float32: Float32Array };
  function view(buffer, entry) {
    return new TYPES[entry.type](buffer, entry.offset, entry.length);
  }

  // Undo the packing of mesh arrays: byte planes back to integers, then the differences
  // summed (typed arrays wrap, as the writer's unsigned differences did).
  function unpack(buffer, entry) {
    const bytes = view(buffer, entry);
    const n = entry.count, size = entry.size, stride = entry.stride;
    const out = size === 2 ? new Uint16Array(n) : new Uint32Array(n);
    for (let k = 0; k < n; k++) {
      let v = 0;
      for (let p = size - 1; p >= 0; p--) v = v * 256 + bytes[p * n + k];
      out[k] = v;
    }
    for (let k = stride; k < n; k++) out[k] = out[k] + out[k - stride];
    return out;
  }

  function niceTicks(clim) {
    const bar = meta.colorbar;
    return bar.ticks.fixed || bar.ticks[String(Math.round(clim * 1e6) / 1e6)] || [0, clim];
  }

  function cssRgb(c, k) {
    return `rgb(${c[k]},${c[k + 1]},${c[k + 2]})`;
  }

  async function start() {
    const buffer = await inflate(decodeBase64(document.getElementById("spine3d-data").textContent.trim()));
    const A = {};
    for (const [name, entry] of Object.entries(meta.arrays)) A[name] = view(buffer, entry);
    const nStates = meta.states.length;
    const nGrid = meta.grid.count;
    const nLevels = meta.levels.length;
    const nSeg = meta.segments.length;
    const nBones = meta.bones.length;
    const nMarkers = meta.markers.length;
    // Rib cage parts' poses on their vertebra, per state and slider position (16-bit).
    const PQ = new Int16Array(unpack(buffer, meta.partPoses.quat).buffer);
    const PT = new Int16Array(unpack(buffer, meta.partPoses.t).buffer);

    // Scene, camera, lights.
    const canvas = $("view");
    const renderer = new THREE.WebGLRenderer({ canvas: canvas, antialias: true, preserveDrawingBuffer: true });
    renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    renderer.outputColorSpace = THREE.SRGBColorSpace;
    const scene = new THREE.Scene();
    scene.background = new THREE.Color(meta.background);
    const camera = new THREE.PerspectiveCamera(30, 1, 1, 20000);
    scene.add(new THREE.HemisphereLight(0xffffff, 0x8a8070, 1.6));
    const key = new THREE.DirectionalLight(0xffffff, 1.8);
    key.position.set(0.3, 0.6, 1);
    camera.add(key);
    scene.add(camera);
    const controls = new THREE.OrbitControls(camera, canvas);
    controls.enableDamping = false;

    // One geometry per bone, shared by every pose.
    const geometries = meta.meshes.map((m) => {
      const q = unpack(buffer, m.positions);
      const pos = new Float32Array(q.length);
      for (let i = 0; i < q.length; i += 3) {
        for (let k = 0; k < 3; k++) pos[i + k] = m.lo[k] + (q[i + k] / 65535) * m.span[k];
      }
      const g = new THREE.BufferGeometry();
      g.setAttribute("position", new THREE.BufferAttribute(pos, 3));
      g.setIndex(new THREE.BufferAttribute(unpack(buffer, m.index), 1));
      g.computeVertexNormals();
      g.computeBoundingSphere();
      return g;
    });

    // A group per shown vertebra carries its pose; bones and facet balls hang from it.
    const vertebrae = meta.levels.map((lv) => {
      const g = new THREE.Group();
      g.name = lv;
      g.matrixAutoUpdate = false;
      scene.add(g);
      return g;
    });
    const offsetMatrix = (a) => new THREE.Matrix4().fromArray(a);
    const boneMeshes = meta.bones.map((b) => {
      const material = new THREE.MeshStandardMaterial({
        color: b.color, roughness: 0.62, metalness: 0.0,
        transparent: b.opacity < 1, opacity: b.opacity, depthWrite: b.opacity >= 1,
      });
      const mesh = new THREE.Mesh(geometries[b.mesh], material);
      mesh.name = b.name;
      mesh.matrixAutoUpdate = false;
      mesh.matrix.copy(offsetMatrix(b.offset));
      mesh.userData = { level: b.name, role: b.role };
      (b.parent >= 0 ? vertebrae[b.parent] : scene).add(mesh);
      return mesh;
    });
    const ball = new THREE.SphereGeometry(1, 24, 16);
    const markerMeshes = meta.markers.map((m) => {
      const mesh = new THREE.Mesh(ball, new THREE.MeshStandardMaterial({ color: meta.theme.facet, roughness: 0.45 }));
      mesh.matrixAutoUpdate = false;
      mesh.matrix.copy(offsetMatrix(m.offset));
      vertebrae[m.parent].add(mesh);
      return mesh;
    });

    // Lines (e.g. a facet plane's trace): thin cylinders, so that they have a width.
    const rod = new THREE.CylinderGeometry(1, 1, 1, 12);
    const yAxis = new THREE.Vector3(0, 1, 0);
    for (const ln of meta.lines) {
      const material = new THREE.MeshBasicMaterial({ color: ln.color });
      const holder = ln.parent >= 0 ? vertebrae[ln.parent] : scene;
      const p = ln.points;
      for (let i = 0; i + 5 < p.length; i += 3) {
        const a = new THREE.Vector3(p[i], p[i + 1], p[i + 2]);
        const b = new THREE.Vector3(p[i + 3], p[i + 4], p[i + 5]);
        const length = a.distanceTo(b);
        if (length === 0) continue;
        const piece = new THREE.Mesh(rod, material);
        piece.position.copy(a).add(b).multiplyScalar(0.5);
        piece.quaternion.setFromUnitVectors(yAxis, b.clone().sub(a).normalize());
        piece.scale.set(ln.width * 0.2, length, ln.width * 0.2);
        holder.add(piece);
      }
    }

    // Labels: HTML over the canvas, placed by projecting each anchor every frame. A
    // level's label tells its segment's state; any other keeps its text and colour.
    const labelLayer = $("labels");
    const labels = meta.labels.map((l) => {
      const el = document.createElement("div");
      el.className = "label";
      if (l.level) el.dataset.level = l.level;
      el.textContent = l.text;
      el.style.color = l.color;
      labelLayer.appendChild(el);
      return { el: el, level: l.level, parent: l.parent, local: new THREE.Vector3(...l.local) };
    });

    // Slider, camera buttons, texts.
    const slider = $("twist");
    slider.min = meta.grid.min;
    slider.max = meta.grid.min + meta.grid.step * (nGrid - 1);
    slider.step = meta.grid.step;
    $("title").textContent = meta.title;
    $("panel-title").textContent = meta.panelTitle;
    $("note").textContent = meta.note;
    $("caption").textContent = meta.caption;
    $("credit").textContent = meta.credit;
    const camBox = $("cameras");
    for (const name of Object.keys(meta.cameras)) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = name;
      b.dataset.camera = name;
      b.addEventListener("click", () => { setCamera(name); render(); });
      camBox.appendChild(b);
    }
    const bar = meta.colorbar;
    if (bar) {
      $("colorbar-title").textContent = bar.title;
      $("colorbar-ramp").style.background =
        "linear-gradient(to top, " + bar.stops.map(([p, c]) => `${c} ${(p * 100).toFixed(2)}%`).join(", ") + ")";
    } else {
      $("colorbar").style.display = "none";
    }
    if (!meta.chart) $("chart").style.display = "none";

    let current = { state: 0, grid: 0 };

    function setCamera(name) {
      const c = meta.cameras[name];
      camera.fov = c.fov;
      camera.up.set(...c.up);
      camera.position.set(...c.position);
      controls.target.set(...c.focal);
      camera.lookAt(controls.target);
      camera.updateProjectionMatrix();
      controls.update();
      for (const b of camBox.children) b.setAttribute("aria-pressed", String(b.dataset.camera === name));
    }

    const tmpQ = new THREE.Quaternion();
    const tmpT = new THREE.Vector3();
    const ONE = new THREE.Vector3(1, 1, 1);
    function applyPose() {
      const base = (current.state * nGrid + current.grid);
      const Q = A.poseQuat, T = A.poseT;
      for (let v = 0; v < nLevels; v++) {
        const k = base * nLevels + v;
        tmpQ.set(Q[4 * k], Q[4 * k + 1], Q[4 * k + 2], Q[4 * k + 3]).normalize();
        tmpT.set(T[3 * k], T[3 * k + 1], T[3 * k + 2]);
        vertebrae[v].matrix.compose(tmpT, tmpQ, ONE);
        vertebrae[v].matrixWorldNeedsUpdate = true;
      }
      // Rib cage parts the mechanics moves: their own pose on their vertebra.
      const nParts = meta.parts.length, ts = meta.partPoses.tScale;
      for (let p = 0; p < nParts; p++) {
        const k = base * nParts + p;
        tmpQ.set(PQ[4 * k], PQ[4 * k + 1], PQ[4 * k + 2], PQ[4 * k + 3]).normalize();
        tmpT.set(PT[3 * k] * ts, PT[3 * k + 1] * ts, PT[3 * k + 2] * ts);
        const mesh = boneMeshes[meta.parts[p]];
        mesh.matrix.compose(tmpT, tmpQ, ONE);
        mesh.matrixWorldNeedsUpdate = true;
      }
      const C = A.boneColors;
      for (let b = 0; b < nBones; b++) {
        const k = (base * nBones + b) * 3;
        boneMeshes[b].material.color.setRGB(C[k] / 255, C[k + 1] / 255, C[k + 2] / 255, THREE.SRGBColorSpace);
      }
      const M = A.markerColors;
      for (let m = 0; m < nMarkers; m++) {
        const k = (base * nMarkers + m) * 3;
        markerMeshes[m].material.color.setRGB(M[k] / 255, M[k + 1] / 255, M[k + 2] / 255, THREE.SRGBColorSpace);
      }
      const twist = meta.grid.min + meta.grid.step * current.grid;
      slider.value = twist;
      $("twist-value").textContent = `${twist > 0 ? "+" : ""}${twist.toFixed(0)}°`;
      const torque = A.torque[base];
      const turn = twist > 0 ? "upper body turns left" : twist < 0 ? "upper body turns right" : "no twist";
      const changed = changedSegments();
      $("readout").textContent =
        `${turn}, ${Math.abs(torque).toFixed(1)} N m` + (changed.length ? ` · ${changed.join(", ")}` : "");
      updateLabels();
      updateColorbar(A.clim[base]);
      drawChart(base);
    }

    function stateLabel(state, seg) {
      return meta.stateLabels[state][seg];
    }
    function changedSegments() {
      const out = [];
      for (const s of meta.shownSegments) {
        const label = stateLabel(current.state, s);
        if (label !== "normal") out.push(`${meta.segments[s].name} ${label}`);
      }
      return out;
    }

    function updateLabels() {
      for (const l of labels) {
        if (!l.level) continue;
        const seg = meta.segments.findIndex((s) => s.upper === l.level);
        let text = l.level;
        let colour = meta.theme.text;
        if (seg >= 0) {
          const label = stateLabel(current.state, seg);
          if (label === "restricted" || label === "hypermobile") {
            text = `${l.level}  (${meta.segments[seg].name} ${label})`;
            colour = meta.theme[label];
          }
          l.el.dataset.state = label;
        }
        l.el.textContent = text;
        l.el.style.color = colour;
      }
    }

    function placeLabels() {
      const w = canvas.clientWidth, h = canvas.clientHeight;
      const p = new THREE.Vector3();
      for (const l of labels) {
        p.copy(l.local);
        if (l.parent >= 0) p.applyMatrix4(vertebrae[l.parent].matrixWorld);
        p.project(camera);
        const hidden = p.z > 1 || p.z < -1;
        l.el.style.display = hidden ? "none" : "";
        l.el.style.left = `${((p.x + 1) / 2) * w}px`;
        l.el.style.top = `${((1 - p.y) / 2) * h}px`;
      }
    }

    function updateColorbar(clim) {
      if (!bar) return;
      const lo = bar.fixed ? bar.fixed[0] : 0;
      const hi = bar.fixed ? bar.fixed[1] : clim;
      const box = $("colorbar-ticks");
      box.textContent = "";
      for (const t of niceTicks(clim)) {
        const s = document.createElement("span");
        s.textContent = String(Math.round(t * 100) / 100);
        s.style.bottom = `${((t - lo) / (hi - lo)) * 100}%`;
        box.appendChild(s);
      }
    }

    function drawChart(base) {
      if (!meta.chart) return;
      const cv = $("chart");
      const ctx = cv.getContext("2d");
      const W = cv.width, H = cv.height;
      ctx.clearRect(0, 0, W, H);
      ctx.fillStyle = "rgba(255,255,255,0.82)";
      ctx.fillRect(0, 0, W, H);
      const segs = meta.shownSegments;
      const ymax = A.clim[base] || 1;
      const top = 30, left = 44, bottom = H - 28, right = W - 8;
      ctx.fillStyle = meta.theme.text;
      ctx.font = "bold 14px 'DejaVu Sans', Arial, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText("rotation per segment (°)", W / 2, 18);
      ctx.font = "11px 'DejaVu Sans', Arial, sans-serif";
      ctx.textAlign = "right";
      ctx.strokeStyle = "#bbb";
      for (const t of [0, ymax / 2, ymax]) {
        const y = bottom - (t / ymax) * (bottom - top);
        ctx.fillText(String(Number(t.toPrecision(3))), left - 4, y + 4);
        ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(right, y); ctx.stroke();
      }
      const bw = (right - left) / segs.length;
      const C = A.boneColors;
      segs.forEach((s, i) => {
        const value = Math.abs(A.rotation[base * nSeg + s]);
        const hgt = Math.min(value / ymax, 1) * (bottom - top);
        const b = meta.bones.findIndex((x) => x.role === "bone" && x.name === meta.segments[s].upper);
        ctx.fillStyle = meta.colorBy === "segment_rotation" && b >= 0
          ? cssRgb(C, (base * nBones + b) * 3) : meta.theme.neutralBar;
        ctx.fillRect(left + i * bw + 1, bottom - hgt, Math.max(bw - 2, 1), hgt);
        ctx.save();
        ctx.fillStyle = meta.theme.text;
        ctx.translate(left + (i + 0.5) * bw + 3, bottom + 4);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = "right";
        ctx.fillText(meta.segments[s].upper, 0, 0);
        ctx.restore();
      });
    }

    function resize() {
      const w = canvas.clientWidth, h = canvas.clientHeight;
      renderer.setSize(w, h, false);
      camera.aspect = w / Math.max(h, 1);
      camera.updateProjectionMatrix();
    }

    function render() {
      scene.updateMatrixWorld();
      renderer.render(scene, camera);
      placeLabels();
      api.frames = (api.frames || 0) + 1;
    }

    // A very stiff state stops short of the slider's ends: its pose there was not solved.
    let limited = false;
    function show(state, grid) {
      const reach = meta.reachDeg[state];
      const lo = Math.ceil((-reach - meta.grid.min) / meta.grid.step - 1e-9);
      const hi = Math.floor((reach - meta.grid.min) / meta.grid.step + 1e-9);
      limited = grid < lo || grid > hi;
      current = { state: state, grid: Math.max(lo, Math.min(hi, grid)) };
      applyPose();
      if (limited) {
        $("readout").textContent += ` · this spine reaches at most ±${reach.toFixed(0)}° before a segment fails`;
      }
      render();
    }

    // Twist slider: its own timer measures input to the next frame.
    slider.addEventListener("input", () => {
      const t0 = performance.now();
      const grid = Math.round((Number(slider.value) - meta.grid.min) / meta.grid.step);
      show(current.state, Math.max(0, Math.min(nGrid - 1, grid)));
      requestAnimationFrame(() => api.responses.push(performance.now() - t0));
    });

    // Click (not drag) on a vertebra: cycle the segment below it.
    const ray = new THREE.Raycaster();
    let down = null;
    canvas.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; });
    canvas.addEventListener("pointerup", (e) => {
      if (!down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 5) return;
      const level = pick(e.clientX, e.clientY);
      if (level) cycle(level);
    });

    function pick(x, y) {
      const r = canvas.getBoundingClientRect();
      const ndc = new THREE.Vector2(((x - r.left) / r.width) * 2 - 1, -((y - r.top) / r.height) * 2 + 1);
      ray.setFromCamera(ndc, camera);
      const hits = ray.intersectObjects(boneMeshes.filter((m) => m.userData.role === "bone"), false);
      return hits.length ? hits[0].object.userData.level : null;
    }

    function cycle(level) {
      const seg = meta.segments.findIndex((s) => s.upper === level);
      const row = meta.shownSegments.indexOf(seg);
      if (row < 0) return false;
      const now = stateLabel(current.state, seg);
      const k = meta.cycle.indexOf(now);
      const next = meta.cycle[(k + 1) % meta.cycle.length];
      show(meta.stateTable[row][meta.cycle.indexOf(next)], current.grid);
      return true;
    }

    $("reset").addEventListener("click", () => {
      setCamera(meta.camera);
      show(0, startGrid);
    });
    controls.addEventListener("change", render);
    new ResizeObserver(() => { resize(); render(); }).observe(canvas);

    const startGrid = Math.round((meta.startTwist - meta.grid.min) / meta.grid.step);
    resize();
    setCamera(meta.camera);
    show(0, startGrid);
    $("loading").remove();

    // For tests and the curious: what the page shows, read from the drawn objects.
    Object.assign(api, {
      levels: meta.levels,
      twist: () => meta.grid.min + meta.grid.step * current.grid,
      mobility: () => Object.fromEntries(meta.shownSegments.map((s) => [meta.segments[s].name, stateLabel(current.state, s)])),
      stateMobility: () => meta.states[current.state],
      rotationDeg: () => Array.from(A.rotation.subarray((current.state * nGrid + current.grid) * nSeg, (current.state * nGrid + current.grid + 1) * nSeg)),
      vertebraMatrices: () => Object.fromEntries(vertebrae.map((g) => [g.name, g.matrixWorld.toArray()])),
      partMatrices: () => Object.fromEntries(meta.parts.map((b) => [meta.bones[b].name, boneMeshes[b].matrixWorld.toArray()])),
      screenPoint: (level) => {
        const g = vertebrae[meta.levels.indexOf(level)];
        const p = new THREE.Vector3().setFromMatrixPosition(g.matrixWorld).project(camera);
        const r = canvas.getBoundingClientRect();
        return [r.left + ((p.x + 1) / 2) * r.width, r.top + ((1 - p.y) / 2) * r.height];
      },
      pick: pick,
      click: cycle,
      setCamera: (name) => { setCamera(name); render(); },
      render: render,
    });
    api.ready = true;
    requestAnimationFrame(() => { api.firstFrameMs = performance.now(); });
  }

  start().catch((err) => {
    const box = document.getElementById("loading");
    if (box) box.textContent = `This page could not start: ${err && err.message ? err.message : err}`;
    console.error(err);
  });
})();
