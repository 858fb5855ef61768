/* gslive: a live Gray-Scott simulator for web pages (part of gslib; no external resources).
 *
 * The scheme is gslib's: forward Euler on a periodic N x N grid, dx = 1, the 5-point Laplacian
 * (edges 1, centre -4) or the CNN paper's 9-point one (edges 1/2, corners 1/4, centre -3),
 * float32 fields, and |v| < 1e-15 set to 0 after every step. Two engines run it: WebGL2 (float
 * textures, ping-pong framebuffers) where the browser offers EXT_color_buffer_float, and a
 * typed-array CPU engine that always works.
 *
 * Every element with the attribute data-gs-live that holds a <script type="application/json"
 * class="gs-live-config"> becomes a simulator: GSLive.mount(element) draws on its <canvas> and
 * sets element.gsSim, the API documented on the book's conventions page:
 *   size, backend, setParams({f, k, Du, Dv, dt, stencil}), params(), setState(u, v), step(n),
 *   state() -> {u, v, t}, play(), pause(), reset(), setSeed(kind), setBackend(name), draw().
 */
(function () {
  "use strict";
  if (window.GSLive) { return; }
  var FLUSH = 1e-15;
  var RADIUS = { "5pt": 8.0, "9pt": 4.0 };

  function f32(x) { return Math.fround(x); }

  // ------------------------------------------------------------------ seeds
  // The CNN paper's seed, from its draws (made by gslib in Python, or drawn here by randomDraws):
  // blocks painted periodically, rotated about the centre with a cubic B-spline without
  // prefilter and periodic wrap (as scipy.ndimage.rotate(order=3, mode="grid-wrap",
  // prefilter=False, reshape=False) does), then rolled.
  function paint(u, v, n, r0, c0, side, uv, vv) {
    var start = (side - 1) >> 1;
    for (var a = 0; a < side; a++) {
      var r = (((r0 - start + a) % n) + n) % n;
      for (var b = 0; b < side; b++) {
        var c = (((c0 - start + b) % n) + n) % n;
        u[r * n + c] = uv; v[r * n + c] = vv;
      }
    }
  }
  function bspline3(t, w) {
    var s = 1 - t;
    w[0] = s * s * s / 6;
    w[1] = (4 - 6 * t * t + 3 * t * t * t) / 6;
    w[2] = (1 + 3 * t + 3 * t * t - 3 * t * t * t) / 6;
    w[3] = t * t * t / 6;
  }
  function degTrig(angle) {
    // exact values at multiples of 90 degrees, like scipy.special.cosdg/sindg
    var a = ((angle % 360) + 360) % 360;
    if (a === 0) { return [1, 0]; }
    if (a === 90) { return [0, 1]; }
    if (a === 180) { return [-1, 0]; }
    if (a === 270) { return [0, -1]; }
    var r = angle * Math.PI / 180;
    return [Math.cos(r), Math.sin(r)];
  }
  function rotate(src, n, angle) {
    var cs = degTrig(angle), c = cs[0], s = cs[1];
    var centre = (n - 1) / 2;
    var off0 = centre - (c * centre + s * centre), off1 = centre - (-s * centre + c * centre);
    var out = new Float64Array(n * n), wr = [0, 0, 0, 0], wc = [0, 0, 0, 0];
    for (var i = 0; i < n; i++) {
      for (var j = 0; j < n; j++) {
        var x = c * i + s * j + off0, y = -s * i + c * j + off1;
        x = x - n * Math.floor(x / n); y = y - n * Math.floor(y / n);
        var fx = Math.floor(x), fy = Math.floor(y);
        bspline3(x - fx, wr); bspline3(y - fy, wc);
        var acc = 0;
        for (var a = 0; a < 4; a++) {
          var r = (((fx - 1 + a) % n) + n) % n, row = 0;
          for (var b = 0; b < 4; b++) { row += wc[b] * src[r * n + (((fy - 1 + b) % n) + n) % n]; }
          acc += wr[a] * row;
        }
        out[i * n + j] = acc;
      }
    }
    return out;
  }
  function cnnSeed(n, d) {
    // d: {square, r2, c2, angle, roll: [rows, cols]}
    var u = new Float64Array(n * n).fill(1), v = new Float64Array(n * n), h = n >> 1;
    paint(u, v, n, h, h, d.square, 0.5, 0.25);
    paint(u, v, n, d.r2, d.c2, d.square, 0.5, 0.25);
    paint(u, v, n, d.r2 + 6, d.c2 + 9, d.square, 0.99, 0.01);
    var ur = rotate(u, n, d.angle), vr = rotate(v, n, d.angle);
    var uo = new Float32Array(n * n), vo = new Float32Array(n * n);
    var dr = d.roll[0], dc = d.roll[1];
    for (var i = 0; i < n; i++) {
      var ri = (i + dr) % n;
      for (var j = 0; j < n; j++) {
        var k = ri * n + (j + dc) % n;
        uo[k] = ur[i * n + j]; vo[k] = vr[i * n + j];
      }
    }
    return { u: uo, v: vo };
  }
  function randomDraws(n, square) {
    // the recipe of the CNN seed with the browser's random numbers
    var sx, sy, dist;
    do {
      sx = 0.1 + 0.8 * Math.random(); sy = 0.1 + 0.8 * Math.random();
      dist = Math.max(Math.abs(sx - 0.5), Math.abs(sy - 0.5));
    } while (!(dist >= 0.2 && dist <= 0.4));
    return { square: square, r2: Math.round(n * sx), c2: Math.round(n * sy),
             angle: Math.floor(Math.random() * 89),
             roll: [Math.floor(Math.random() * n), Math.floor(Math.random() * n)] };
  }
  function decodeF32(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    return new Float32Array(bytes.buffer);
  }

  // ------------------------------------------------------------------ CPU engine
  function CpuEngine(n) {
    this.name = "cpu"; this.n = n;
    this.u = new Float32Array(n * n); this.v = new Float32Array(n * n);
    this.u2 = new Float32Array(n * n); this.v2 = new Float32Array(n * n);
  }
  CpuEngine.prototype.setState = function (u, v) { this.u.set(u); this.v.set(v); };
  CpuEngine.prototype.state = function () { return { u: new Float32Array(this.u), v: new Float32Array(this.v) }; };
  CpuEngine.prototype.step = function (nsteps, p) {
    var n = this.n, u = this.u, v = this.v, u2 = this.u2, v2 = this.v2;
    var f = f32(p.f), k = f32(p.k), Du = f32(p.Du), Dv = f32(p.Dv), dt = f32(p.dt), fk = f + k;
    var nine = p.stencil === "9pt";
    for (var s = 0; s < nsteps; s++) {
      for (var i = 0; i < n; i++) {
        var up = (i === 0 ? n - 1 : i - 1) * n, row = i * n, dn = (i === n - 1 ? 0 : i + 1) * n;
        for (var j = 0; j < n; j++) {
          var l = j === 0 ? n - 1 : j - 1, r = j === n - 1 ? 0 : j + 1, c = row + j;
          var uc = u[c], vc = v[c], lu, lv;
          if (nine) {
            lu = 0.5 * (u[up + j] + u[dn + j] + u[row + l] + u[row + r]) +
                 0.25 * (u[up + l] + u[up + r] + u[dn + l] + u[dn + r]) - 3 * uc;
            lv = 0.5 * (v[up + j] + v[dn + j] + v[row + l] + v[row + r]) +
                 0.25 * (v[up + l] + v[up + r] + v[dn + l] + v[dn + r]) - 3 * vc;
          } else {
            lu = u[up + j] + u[dn + j] + u[row + l] + u[row + r] - 4 * uc;
            lv = v[up + j] + v[dn + j] + v[row + l] + v[row + r] - 4 * vc;
          }
          var uvv = uc * vc * vc;
          u2[c] = uc + dt * (Du * lu - uvv + f * (1 - uc));
          var vn = f32(vc + dt * (Dv * lv + uvv - fk * vc));
          v2[c] = (vn < FLUSH && vn > -FLUSH) ? 0 : vn;
        }
      }
      var t = u; u = u2; u2 = t; t = v; v = v2; v2 = t;
    }
    this.u = u; this.v = v; this.u2 = u2; this.v2 = v2;
  };
  CpuEngine.prototype.draw = function (ctx, lut, image) {
    var n = this.n, u = this.u, px = image.data;
    for (var i = 0; i < n; i++) {
      var dst = (n - 1 - i) * n; // row 0 at the bottom, as gslib's plots
      for (var j = 0; j < n; j++) {
        var x = u[i * n + j], idx = x <= 0 ? 0 : x >= 1 ? 255 : Math.floor(x * 255.999), o = 4 * (dst + j);
        if (x !== x) { idx = 0; }
        px[o] = lut[4 * idx]; px[o + 1] = lut[4 * idx + 1]; px[o + 2] = lut[4 * idx + 2]; px[o + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
  };

  // ------------------------------------------------------------------ WebGL2 engine
  var VS = "#version 300 es\nin vec2 p; void main() { gl_Position = vec4(p, 0.0, 1.0); }";
  var STEP_FS = [
    "#version 300 es", "precision highp float; precision highp int; precision highp sampler2D;",
    "uniform sampler2D S; uniform int N; uniform float f, k, Du, Dv, dt; uniform int nine;",
    "out vec4 o;",
    "vec2 at(ivec2 q) { return texelFetch(S, (q + ivec2(N)) % ivec2(N), 0).xy; }",
    "void main() {",
    "  ivec2 q = ivec2(gl_FragCoord.xy);",
    "  vec2 c = at(q);",
    "  vec2 e = at(q + ivec2(1, 0)) + at(q + ivec2(-1, 0)) + at(q + ivec2(0, 1)) + at(q + ivec2(0, -1));",
    "  vec2 lap;",
    "  if (nine == 1) {",
    "    vec2 d = at(q + ivec2(1, 1)) + at(q + ivec2(-1, 1)) + at(q + ivec2(1, -1)) + at(q + ivec2(-1, -1));",
    "    lap = 0.5 * e + 0.25 * d - 3.0 * c;",
    "  } else { lap = e - 4.0 * c; }",
    "  float uvv = c.x * c.y * c.y;",
    "  float un = c.x + dt * (Du * lap.x - uvv + f * (1.0 - c.x));",
    "  float vn = c.y + dt * (Dv * lap.y + uvv - (f + k) * c.y);",
    "  if (abs(vn) < 1e-15) { vn = 0.0; }",
    "  o = vec4(un, vn, 0.0, 1.0);",
    "}"].join("\n");
  var SHOW_FS = [
    "#version 300 es", "precision highp float; precision highp sampler2D;",
    "uniform sampler2D S; uniform sampler2D L; uniform vec2 R; out vec4 o;",
    "void main() {",
    "  vec2 xy = gl_FragCoord.xy / R;",
    "  float u = clamp(texture(S, xy).x, 0.0, 1.0);",
    "  o = vec4(texture(L, vec2((floor(u * 255.999) + 0.5) / 256.0, 0.5)).rgb, 1.0);",
    "}"].join("\n");

  function compile(gl, vs, fs) {
    function sh(type, src) {
      var s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) { throw new Error(gl.getShaderInfoLog(s)); }
      return s;
    }
    var prog = gl.createProgram();
    gl.attachShader(prog, sh(gl.VERTEX_SHADER, vs)); gl.attachShader(prog, sh(gl.FRAGMENT_SHADER, fs));
    gl.bindAttribLocation(prog, 0, "p"); gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) { throw new Error(gl.getProgramInfoLog(prog)); }
    return prog;
  }

  function GlEngine(n, canvas, lut) {
    var gl = canvas.getContext("webgl2", { antialias: false, depth: false, preserveDrawingBuffer: true });
    if (!gl) { throw new Error("no WebGL2"); }
    if (!gl.getExtension("EXT_color_buffer_float")) { throw new Error("no EXT_color_buffer_float"); }
    this.name = "webgl2"; this.n = n; this.gl = gl;
    this.step_prog = compile(gl, VS, STEP_FS); this.show_prog = compile(gl, VS, SHOW_FS);
    var buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0); gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    this.tex = []; this.fbo = [];
    for (var i = 0; i < 2; i++) {
      var t = gl.createTexture();
      gl.bindTexture(gl.TEXTURE_2D, t);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA32F, n, n, 0, gl.RGBA, gl.FLOAT, null);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.REPEAT);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.REPEAT);
      var fb = gl.createFramebuffer();
      gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, t, 0);
      if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) {
        throw new Error("float framebuffer incomplete");
      }
      this.tex.push(t); this.fbo.push(fb);
    }
    this.lut = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.lut);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 256, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, lut);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    this.cur = 0;
    var sp = this.step_prog, names = ["S", "N", "f", "k", "Du", "Dv", "dt", "nine"];
    this.loc = {};
    for (var m = 0; m < names.length; m++) { this.loc[names[m]] = gl.getUniformLocation(sp, names[m]); }
  }
  GlEngine.prototype.setState = function (u, v) {
    var n = this.n, data = new Float32Array(4 * n * n), gl = this.gl;
    for (var i = 0; i < n * n; i++) { data[4 * i] = u[i]; data[4 * i + 1] = v[i]; data[4 * i + 3] = 1; }
    gl.bindTexture(gl.TEXTURE_2D, this.tex[this.cur]);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, n, n, gl.RGBA, gl.FLOAT, data);
  };
  GlEngine.prototype.state = function () {
    var n = this.n, gl = this.gl, data = new Float32Array(4 * n * n);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.fbo[this.cur]);
    gl.readPixels(0, 0, n, n, gl.RGBA, gl.FLOAT, data);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    var u = new Float32Array(n * n), v = new Float32Array(n * n);
    for (var i = 0; i < n * n; i++) { u[i] = data[4 * i]; v[i] = data[4 * i + 1]; }
    return { u: u, v: v };
  };
  GlEngine.prototype.step = function (nsteps, p) {
    var gl = this.gl, L = this.loc;
    gl.useProgram(this.step_prog);
    gl.viewport(0, 0, this.n, this.n);
    gl.uniform1i(L.S, 0); gl.uniform1i(L.N, this.n);
    gl.uniform1f(L.f, p.f); gl.uniform1f(L.k, p.k); gl.uniform1f(L.Du, p.Du); gl.uniform1f(L.Dv, p.Dv);
    gl.uniform1f(L.dt, p.dt); gl.uniform1i(L.nine, p.stencil === "9pt" ? 1 : 0);
    gl.activeTexture(gl.TEXTURE0);
    for (var s = 0; s < nsteps; s++) {
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.fbo[1 - this.cur]);
      gl.bindTexture(gl.TEXTURE_2D, this.tex[this.cur]);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      this.cur = 1 - this.cur;
    }
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  };
  GlEngine.prototype.finish = function () {
    var px = new Float32Array(4), gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.fbo[this.cur]);
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, px);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  };
  GlEngine.prototype.draw = function () {
    var gl = this.gl, c = gl.canvas;
    gl.useProgram(this.show_prog);
    gl.viewport(0, 0, c.width, c.height);
    gl.activeTexture(gl.TEXTURE0); gl.bindTexture(gl.TEXTURE_2D, this.tex[this.cur]);
    gl.activeTexture(gl.TEXTURE1); gl.bindTexture(gl.TEXTURE_2D, this.lut);
    gl.uniform1i(gl.getUniformLocation(this.show_prog, "S"), 0);
    gl.uniform1i(gl.getUniformLocation(this.show_prog, "L"), 1);
    gl.uniform2f(gl.getUniformLocation(this.show_prog, "R"), c.width, c.height);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.activeTexture(gl.TEXTURE0);
  };

  // ------------------------------------------------------------------ the simulator
  function checkParams(p) {
    var names = ["f", "k", "Du", "Dv", "dt"];
    for (var i = 0; i < names.length; i++) {
      var x = p[names[i]];
      if (typeof x !== "number" || !isFinite(x) || x < 0 || (names[i] === "dt" && x <= 0)) {
        throw new RangeError(names[i] + "=" + x + " must be a finite number " + (names[i] === "dt" ? "> 0" : ">= 0"));
      }
    }
    if (p.stencil !== "5pt" && p.stencil !== "9pt") {
      throw new RangeError("stencil=" + p.stencil + " is not a stencil; allowed: '5pt', '9pt'");
    }
    var bound = 2 / (RADIUS[p.stencil] * Math.max(p.Du, p.Dv, 1e-300));
    if (p.dt > bound) {
      throw new RangeError("dt=" + p.dt + " is above the forward-Euler bound " + bound.toPrecision(4) +
                           " of the " + p.stencil + " stencil for max(Du, Dv) = " + Math.max(p.Du, p.Dv));
    }
  }

  function Simulator(root, cfg) {
    var self = this;
    this.root = root; this.cfg = cfg; this.size = cfg.size;
    this.lut = decodeBytes(cfg.lut);
    this.canvas = root.querySelector("canvas.gs-live-canvas");
    this.p = { f: cfg.f, k: cfg.k, Du: cfg.Du, Dv: cfg.Dv, dt: cfg.dt, stencil: cfg.stencil };
    checkParams(this.p);
    this.t = 0; this.running = false; this.rate = null; this.seedKind = cfg.seed;
    this.draws = cfg.draws; this.sfi = cfg.sfi ? { u: decodeF32(cfg.sfi.u), v: decodeF32(cfg.sfi.v) } : null;
    this.stepsPerFrame = cfg.steps_per_frame;
    this.engine = null;
    this.setBackend(cfg.backend || "auto");
    this.reset();
    this.bindControls();
    this.api = {
      size: this.size,
      get backend() { return self.engine.name; },
      setParams: function (p) { self.setParams(p); },
      params: function () { return Object.assign({}, self.p); },
      setState: function (u, v) { self.setState(u, v); },
      step: function (n) { self.step(n === undefined ? 1 : n); },
      state: function () { var s = self.engine.state(); s.t = self.t; return s; },
      play: function () { self.play(); },
      pause: function () { self.pause(); },
      reset: function () { self.reset(); },
      setSeed: function (kind, draws) { self.setSeed(kind, draws); },
      setBackend: function (name) { return self.setBackend(name); },
      draw: function () { self.draw(); },
      get running() { return self.running; },
      get stepsPerSecond() { return self.rate; }
    };
    root.gsSim = this.api;
  }
  function decodeBytes(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  Simulator.prototype.setBackend = function (name) {
    if (["auto", "webgl2", "cpu"].indexOf(name) < 0) {
      throw new RangeError("backend=" + name + " is not a backend; allowed: 'auto', 'webgl2', 'cpu'");
    }
    var keep = this.engine ? this.engine.state() : null, n = this.size, engine = null, why = "";
    // a canvas keeps the first context it gets: the CPU engine draws on a 2d canvas of its own
    if (name !== "cpu") {
      try {
        if (!this.glCanvas) { this.glCanvas = this.makeCanvas(); }
        engine = new GlEngine(n, this.glCanvas, this.lut);
      } catch (err) {
        why = String(err && err.message || err);
        if (name === "webgl2") { throw new Error("WebGL2 engine unavailable: " + why); }
      }
    }
    if (!engine) {
      if (!this.cpuCanvas) { this.cpuCanvas = this.makeCanvas(); }
      engine = new CpuEngine(n);
      this.ctx = this.cpuCanvas.getContext("2d");
      this.image = this.ctx.createImageData(n, n);
    }
    this.engine = engine; this.glWhy = why;
    var shown = engine.name === "cpu" ? this.cpuCanvas : this.glCanvas;
    var canvases = this.root.querySelectorAll("canvas.gs-live-canvas");
    for (var i = 0; i < canvases.length; i++) { canvases[i].style.display = canvases[i] === shown ? "" : "none"; }
    this.canvas = shown;
    if (keep) { engine.setState(keep.u, keep.v); }
    this.status();
    return engine.name;
  };
  Simulator.prototype.makeCanvas = function () {
    var c = this.root.querySelector("canvas.gs-live-canvas:not([data-used])");
    if (!c) {
      var first = this.root.querySelector("canvas.gs-live-canvas");
      c = first.cloneNode(false);
      first.parentNode.insertBefore(c, first.nextSibling);
    }
    c.setAttribute("data-used", "1");
    c.width = this.size; c.height = this.size;
    return c;
  };
  Simulator.prototype.setParams = function (p) {
    var q = Object.assign({}, this.p);
    for (var key in p) {
      if (!Object.prototype.hasOwnProperty.call(p, key)) { continue; }
      if (!(key in q)) { throw new RangeError("setParams: unknown parameter " + key + "; allowed: f, k, Du, Dv, dt, stencil"); }
      q[key] = p[key];
    }
    checkParams(q);
    this.p = q;
    this.syncControls();
  };
  Simulator.prototype.setState = function (u, v) {
    var n2 = this.size * this.size;
    if (!u || !v || u.length !== n2 || v.length !== n2) {
      throw new RangeError("setState: u and v must be arrays of size*size = " + n2 + " values (row-major)");
    }
    this.engine.setState(u instanceof Float32Array ? u : new Float32Array(u),
                         v instanceof Float32Array ? v : new Float32Array(v));
    this.t = 0;
    this.draw();
  };
  Simulator.prototype.step = function (n) {
    if (!(Number.isInteger(n) && n >= 0)) { throw new RangeError("step: n=" + n + " must be an integer >= 0"); }
    this.engine.step(n, this.p);
    this.t += n * this.p.dt;
  };
  Simulator.prototype.seedFields = function () {
    if (this.seedKind === "sfi" && this.sfi) { return this.sfi; }
    return cnnSeed(this.size, this.draws);
  };
  Simulator.prototype.reset = function () {
    var s = this.seedFields();
    this.engine.setState(s.u, s.v);
    this.t = 0;
    this.draw();
  };
  Simulator.prototype.setSeed = function (kind, draws) {
    if (kind !== "cnn" && kind !== "sfi") { throw new RangeError("seed=" + kind + " must be 'cnn' or 'sfi'"); }
    if (kind === "sfi" && !this.sfi) { throw new RangeError("this simulator carries no SFI seed"); }
    this.seedKind = kind;
    if (draws) { this.draws = draws; }
    var sel = this.root.querySelector("select.gs-live-seed");
    if (sel) { sel.value = kind; }
    this.reset();
  };
  Simulator.prototype.draw = function () {
    if (this.engine.name === "cpu") { this.engine.draw(this.ctx, this.lut, this.image); } else { this.engine.draw(); }
    this.status();
  };
  Simulator.prototype.status = function () {
    var el = this.root.querySelector(".gs-live-status");
    if (!el) { return; }
    var rate = this.rate === null ? "\u2013" : Math.round(this.rate).toLocaleString("en-US");
    el.textContent = "t = " + this.t.toFixed(1) + "   steps/s: " + rate + "   engine: " +
      (this.engine ? this.engine.name : "?") + (this.engine && this.engine.name === "cpu" && this.glWhy ? " (" + this.glWhy + ")" : "");
  };
  Simulator.prototype.play = function () {
    if (this.running) { return; }
    var self = this, last = null, steps = 0, since = null;
    this.running = true;
    function frame(now) {
      if (!self.running) { return; }
      if (since === null) { since = now; }
      self.step(self.stepsPerFrame);
      steps += self.stepsPerFrame;
      self.draw();
      if (now - since >= 500) { self.rate = 1000 * steps / (now - since); steps = 0; since = now; }
      last = now;
      self.raf = window.requestAnimationFrame(frame);
    }
    this.raf = window.requestAnimationFrame(frame);
    this.syncControls();
  };
  Simulator.prototype.pause = function () {
    this.running = false;
    if (this.raf) { window.cancelAnimationFrame(this.raf); this.raf = null; }
    this.syncControls();
  };
  Simulator.prototype.seedAt = function (ev) {
    var r = this.canvas.getBoundingClientRect(), n = this.size;
    if (r.width <= 0 || r.height <= 0) { return; }
    var col = Math.floor(n * (ev.clientX - r.left) / r.width);
    var row = n - 1 - Math.floor(n * (ev.clientY - r.top) / r.height);
    var s = this.engine.state(), rad = Math.max(1, Math.round(n / 32));
    for (var a = -rad; a <= rad; a++) {
      for (var b = -rad; b <= rad; b++) {
        var i = (((row + a) % n) + n) % n, j = (((col + b) % n) + n) % n;
        s.u[i * n + j] = 0.5; s.v[i * n + j] = 0.25;
      }
    }
    this.engine.setState(s.u, s.v);
    this.draw();
  };
  Simulator.prototype.bindControls = function () {
    var self = this, root = this.root;
    function q(sel) { return root.querySelector(sel); }
    var names = ["f", "k", "Du", "Dv"];
    names.forEach(function (name) {
      var input = q("input.gs-live-" + name);
      if (!input) { return; }
      input.addEventListener("input", function () {
        var p = {}; p[name] = Number(input.value);
        try { self.setParams(p); } catch (err) { self.syncControls(); }
      });
    });
    var speed = q("input.gs-live-speed");
    if (speed) { speed.addEventListener("input", function () { self.stepsPerFrame = Math.max(1, Math.round(Number(speed.value))); self.syncControls(); }); }
    var st = q("select.gs-live-stencil");
    if (st) { st.addEventListener("change", function () { self.setParams({ stencil: st.value }); }); }
    var seed = q("select.gs-live-seed");
    if (seed) { seed.addEventListener("change", function () { self.setSeed(seed.value); }); }
    var play = q("button.gs-live-play");
    if (play) { play.addEventListener("click", function () { if (self.running) { self.pause(); } else { self.play(); } }); }
    var reset = q("button.gs-live-reset");
    if (reset) { reset.addEventListener("click", function () { self.reset(); }); }
    var fresh = q("button.gs-live-new");
    if (fresh) { fresh.addEventListener("click", function () { self.setSeed("cnn", randomDraws(self.size, self.draws.square)); }); }
    var box = q(".gs-live-field"), down = false;
    if (box) {
      box.addEventListener("pointerdown", function (ev) { down = true; self.seedAt(ev); ev.preventDefault(); });
      box.addEventListener("pointermove", function (ev) { if (down) { self.seedAt(ev); } });
      window.addEventListener("pointerup", function () { down = false; });
    }
    this.syncControls();
  };
  Simulator.prototype.syncControls = function () {
    var root = this.root, p = this.p, digits = { f: 4, k: 4, Du: 3, Dv: 3 };
    ["f", "k", "Du", "Dv"].forEach(function (name) {
      var input = root.querySelector("input.gs-live-" + name), out = root.querySelector(".gs-live-" + name + "-value");
      if (input && Number(input.value) !== p[name]) { input.value = p[name]; }
      if (out) { out.textContent = p[name].toFixed(digits[name]); }
    });
    var sv = root.querySelector(".gs-live-speed-value");
    if (sv) { sv.textContent = String(this.stepsPerFrame); }
    var st = root.querySelector("select.gs-live-stencil");
    if (st) { st.value = p.stencil; }
    var play = root.querySelector("button.gs-live-play");
    if (play) { play.textContent = this.running ? "pause" : "play"; }
  };

  // ------------------------------------------------------------------ class maps (chapter 3)
  // A <canvas class="gs-live-map"> with a JSON block class="gs-live-map-data": lattice cells
  // coloured by class; a click selects the nearest scan point and starts the simulator at its
  // (k, f) from the seed the scan used there.
  function mountMap(root, sim) {
    var data = JSON.parse(root.querySelector("script.gs-live-map-data").textContent);
    var canvas = root.querySelector("canvas.gs-live-map"), ctx = canvas.getContext("2d");
    var nk = data.nk, nf = data.nf, scale = data.cell;
    canvas.width = nk * scale; canvas.height = nf * scale;
    function paintMap(mark) {
      ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      for (var i = 0; i < data.ik.length; i++) {
        ctx.fillStyle = data.colors[data.label[i]];
        ctx.fillRect(data.ik[i] * scale, (nf - 1 - data.jf[i]) * scale, scale, scale);
      }
      if (mark !== null && mark !== undefined) {
        ctx.strokeStyle = "#000000"; ctx.lineWidth = 2;
        ctx.strokeRect(data.ik[mark] * scale - 2, (nf - 1 - data.jf[mark]) * scale - 2, scale + 4, scale + 4);
      }
    }
    var label = root.querySelector(".gs-live-map-label");
    function select(index) {
      var d = data.draws[index];
      var draws = { square: data.square, r2: d[0], c2: d[1], angle: d[2], roll: [d[3], d[4]] };
      var f = data.f0 + data.df * data.jf[index], k = data.k0 + data.dk * data.ik[index];
      sim.pause();
      sim.setParams({ f: f, k: k });
      sim.setSeed("cnn", draws);
      paintMap(index);
      root.setAttribute("data-selected", String(index));
      if (label) {
        label.textContent = "point " + data.index[index] + ": k = " + k.toFixed(6) + ", f = " + f.toFixed(5) +
          ", class " + data.names[data.label[index]] + ", seed " + data.seed[index];
      }
      sim.play();
    }
    function nearest(ck, cf) {
      var best = -1, bestd = Infinity;
      for (var i = 0; i < data.ik.length; i++) {
        var dd = (data.ik[i] - ck) * (data.ik[i] - ck) + (data.jf[i] - cf) * (data.jf[i] - cf);
        if (dd < bestd) { bestd = dd; best = i; }
      }
      return best;
    }
    canvas.addEventListener("click", function (ev) {
      var r = canvas.getBoundingClientRect();
      if (r.width <= 0 || r.height <= 0) { return; }
      var ck = nk * (ev.clientX - r.left) / r.width - 0.5, cf = nf - nf * (ev.clientY - r.top) / r.height - 0.5;
      select(nearest(ck, cf));
    });
    paintMap(null);
    root.gsMap = { select: select, nearest: function (k, f) { return nearest((k - data.k0) / data.dk, (f - data.f0) / data.df); },
                   points: data.ik.length };
  }

  function mount(root) {
    if (!root || root.gsSim) { return root && root.gsSim; }
    var cfgEl = root.querySelector("script.gs-live-config");
    if (!cfgEl) { return null; }
    var sim = new Simulator(root, JSON.parse(cfgEl.textContent));
    var mapRoot = root.closest("[data-gs-live-map]");
    if (mapRoot && !mapRoot.gsMap) { mountMap(mapRoot, sim.api); }
    if (sim.cfg.autoplay) { sim.play(); }
    return sim.api;
  }

  window.GSLive = { mount: mount, cnnSeed: cnnSeed, randomDraws: randomDraws, version: 1 };
})();
