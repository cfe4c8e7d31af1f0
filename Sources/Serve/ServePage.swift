/// The page `smis serve` serves at `/`: one self-contained HTML file (no external script, style
/// sheet or font, so it works offline and under the strict Content-Security-Policy it is sent
/// with). It keeps the page's session id and request counter; the server keeps z and the label.
///
/// Element ids the browser test drives: `resample-<class id>`, `output` (its `data-request` is
/// the request whose image it shows), `timing`, `error`, `label-canvas`, `record-index`.
enum ServePage {
    static let html = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>SMIS</title>
        <style>
        body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
        .row { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
        .panel { display: flex; flex-direction: column; gap: 8px; width: 360px; }
        canvas, img.view {
          width: 352px; min-height: 64px; image-rendering: pixelated; border: 1px solid #999; cursor: crosshair;
        }
        #palette { display: grid; grid-template-columns: 1fr 1fr; gap: 2px; }
        #palette button { margin: 1px; border: 2px solid transparent; }
        #palette button.chosen { border-color: #000; }
        .swatch { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin-right: 4px; }
        #style-drop { border: 2px dashed #888; padding: 12px; text-align: center; }
        #error { color: #b00; min-height: 1.2em; }
        #timing { font-variant-numeric: tabular-nums; }
        </style></head>
        <body>
        <h1>Semantically multi-modal image synthesis</h1>
        <div class="row">
          <div class="panel">
            <div>Label map: record <input id="record-index" type="number" min="0" value="0" style="width:5em">
              <button id="load-record">Load</button> <span id="record-count"></span>
              or <input id="label-file" type="file" accept="image/png"></div>
            <div><label><input type="radio" name="mode" value="paint" checked> paint</label>
              <label><input type="radio" name="mode" value="resample"> click resamples</label>
              brush <input id="brush" type="range" min="1" max="40" value="8"></div>
            <canvas id="label-canvas"></canvas>
            <div id="palette"></div>
          </div>
          <div class="panel">
            <img id="output" class="view" alt="generated image" data-request="0">
            <div id="timing">Choose a label map.</div>
            <div id="error"></div>
            <div>Morph <input id="morph" type="range" min="0" max="100" value="0" style="width:240px"></div>
            <div id="style-drop">Mix <select id="mix-class"><option value="">all classes</option></select>
              from record <input id="mix-record" type="number" min="0" value="1" style="width:4em">
              <button id="mix-from-record">Mix</button><br>
              or drop a style photo here (or <input id="style-file" type="file" accept="image/*">)</div>
          </div>
        </div>
        <script>
        "use strict";
        const page = { session: null, request: 0, info: null, label: null, brush: 0, painting: false };
        const $ = id => document.getElementById(id);

        async function start() {
          page.info = await (await fetch("/api/info")).json();
          page.session = (await (await fetch("/api/sessions", { method: "POST" })).json()).session;
          $("record-count").textContent = `of ${page.info.records} (${page.info.split || "no shards"})`;
          $("record-index").max = Math.max(0, page.info.records - 1);
          const canvas = $("label-canvas");
          canvas.width = page.info.width; canvas.height = page.info.height;
          for (const c of page.info.classes) {
            const choose = document.createElement("button");
            choose.innerHTML = `<span class="swatch" style="background:${c.colour}"></span>${c.name}`;
            choose.id = `class-${c.id}`;
            choose.onclick = () => { page.brush = c.id; markBrush(); };
            const again = document.createElement("button");
            again.id = `resample-${c.id}`; again.textContent = "↻"; again.title = `resample ${c.name}`;
            again.onclick = () => resample(c.id);
            const item = document.createElement("span");
            item.append(choose, again);
            $("palette").append(item);
            $("mix-class").append(new Option(c.name, c.id));
          }
          markBrush();
          if (page.info.records > 0) loadRecord();
        }

        function markBrush() {
          for (const c of page.info.classes) $(`class-${c.id}`).classList.toggle("chosen", c.id === page.brush);
        }

        // Sends one action; answers superseded by a newer request (409, or an older number) are ignored.
        async function act(what, method, path, body, type) {
          const number = ++page.request;
          const clicked = performance.now();
          const separator = path.includes("?") ? "&" : "?";
          const headers = type ? { "Content-Type": type } : {};
          $("timing").textContent = `${what}…`;
          let response;
          try {
            response = await fetch(`/api/sessions/${page.session}/${path}${separator}request=${number}`,
                                   { method, body, headers });
          } catch (error) { $("error").textContent = `The server did not answer: ${error}`; return; }
          if (response.status === 409 || number !== page.request) return;
          const reply = await response.json();
          if (!response.ok) { $("error").textContent = reply.error; $("timing").textContent = ""; return; }
          $("error").textContent = "";
          page.label = Uint8Array.from(atob(reply.label), ch => ch.charCodeAt(0));
          drawLabel();
          const output = $("output");
          output.src = `data:image/png;base64,${reply.image}`;
          await output.decode();
          if (number !== page.request) return;
          output.dataset.request = String(number);
          const total = Math.round(performance.now() - clicked);
          $("timing").textContent = `${what}: ${total} ms from click to image ` +
            `(model ${Math.round(reply.milliseconds)} ms, waited ${Math.round(reply.waitedMilliseconds)} ms)`;
        }

        function loadRecord() {
          resetMorph();
          const index = Number($("record-index").value) || 0;
          return act(`record ${index}`, "POST", `record?index=${index}`);
        }
        function resample(id) {
          resetMorph();
          return act(`resample ${page.info.classes[id].name}`, "POST", "resample",
                     JSON.stringify({ class: id }), "application/json");
        }
        function sendLabel(body, type) { return act("label map", "PUT", "label", body, type); }
        function mix(file) {
          resetMorph();
          const classes = $("mix-class").value;
          return act(`mix ${file.name}`, "POST", `mix?classes=${classes}`, file, file.type || "image/png");
        }
        function mixRecord() {
          resetMorph();
          const classes = $("mix-class").value, index = Number($("mix-record").value) || 0;
          return act(`mix record ${index}`, "POST", `mix?classes=${classes}&record=${index}`);
        }
        function resetMorph() { $("morph").value = 0; }

        function drawLabel() {
          const canvas = $("label-canvas"), context = canvas.getContext("2d");
          const picture = context.createImageData(canvas.width, canvas.height);
          const colours = page.info.classes.map(c => [1, 3, 5].map(i => parseInt(c.colour.substr(i, 2), 16)));
          page.label.forEach((id, i) => {
            const [r, g, b] = colours[id] || [0, 0, 0];
            picture.data.set([r, g, b, 255], i * 4);
          });
          context.putImageData(picture, 0, 0);
        }

        function pixelAt(event, element) {
          const box = element.getBoundingClientRect();
          const x = Math.floor((event.clientX - box.left) / box.width * page.info.width);
          const y = Math.floor((event.clientY - box.top) / box.height * page.info.height);
          return [Math.max(0, Math.min(page.info.width - 1, x)), Math.max(0, Math.min(page.info.height - 1, y))];
        }
        function classAt(event, element) {
          const [x, y] = pixelAt(event, element);
          return page.label ? page.label[y * page.info.width + x] : null;
        }
        function paint(event) {
          const [cx, cy] = pixelAt(event, $("label-canvas")), r = Number($("brush").value);
          const w = page.info.width, h = page.info.height;
          for (let y = Math.max(0, cy - r); y <= Math.min(h - 1, cy + r); y++)
            for (let x = Math.max(0, cx - r); x <= Math.min(w - 1, cx + r); x++)
              if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) page.label[y * w + x] = page.brush;
          drawLabel();
        }
        const mode = () => document.querySelector("input[name=mode]:checked").value;

        $("label-canvas").addEventListener("pointerdown", event => {
          if (!page.label) return;
          if (mode() === "resample") {
            const id = classAt(event, $("label-canvas"));
            if (id !== null) resample(id);
            return;
          }
          page.painting = true; paint(event);
        });
        $("label-canvas").addEventListener("pointermove", event => { if (page.painting) paint(event); });
        window.addEventListener("pointerup", () => {
          if (!page.painting) return;
          page.painting = false;
          sendLabel(page.label, "application/octet-stream");
        });
        $("output").addEventListener("click", event => {
          const id = classAt(event, $("output")); if (id !== null) resample(id);
        });
        $("load-record").onclick = loadRecord;
        $("mix-from-record").onclick = mixRecord;
        $("label-file").onchange = event => { const f = event.target.files[0]; if (f) sendLabel(f, "image/png"); };
        $("style-file").onchange = event => { const f = event.target.files[0]; if (f) mix(f); };
        $("style-drop").addEventListener("dragover", event => event.preventDefault());
        $("style-drop").addEventListener("drop", event => {
          event.preventDefault(); const f = event.dataTransfer.files[0]; if (f) mix(f);
        });
        $("morph").addEventListener("input", () => {
          const t = Number($("morph").value) / 100;
          act(`morph ${t.toFixed(2)}`, "POST", "morph", JSON.stringify({ t }), "application/json");
        });
        start().catch(error => { $("error").textContent = `The page could not start: ${error}`; });
        </script>
        </body></html>
        """#
}
