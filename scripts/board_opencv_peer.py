#!/usr/bin/env python3
"""OpenCV peer of tamperscan's two-level board comparison, for the speed/accuracy benchmark.

Pipeline per DeepPCB pair (one thread): decode both JPEGs from memory, binarise (Otsu), XOR,
morphological opening (3x3) to drop one-pixel edge jitter, connected components (8-connected),
boxes of components of at least 9 px, each grown by the same matching margin tamperscan's
evaluation uses (8 px per side), then greedy IoU >= 0.5 matching against the annotations
(class-agnostic). Prints one JSON object: pairs, median/mean ms per pair, precision, recall, F1,
false alarms per image.

usage: board_opencv_peer.py PCBDATA_DIR LIST_FILE [--margin 8]
"""
import json
import sys
import time

import cv2
import numpy as np

cv2.setNumThreads(1)


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def detect(temp_bytes, test_bytes, kernel):
    g = cv2.imdecode(np.frombuffer(temp_bytes, np.uint8), cv2.IMREAD_GRAYSCALE)
    s = cv2.imdecode(np.frombuffer(test_bytes, np.uint8), cv2.IMREAD_GRAYSCALE)
    _, gb = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    _, sb = cv2.threshold(s, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    x = cv2.bitwise_xor(gb, sb)
    x = cv2.morphologyEx(x, cv2.MORPH_OPEN, kernel)
    n, _, stats, _ = cv2.connectedComponentsWithStats(x, connectivity=8)
    boxes = []
    for i in range(1, n):
        bx, by, bw, bh, area = stats[i]
        if area >= 9:
            boxes.append((float(bx), float(by), float(bx + bw), float(by + bh), float(area)))
    return boxes


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    root, listfile = args[0], args[1]
    margin = float(args[args.index("--margin") + 1]) if "--margin" in args else 8.0
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    times, tp, fp, fn, n = [], 0, 0, 0, 0
    for line in open(listfile):
        parts = line.split()
        if len(parts) < 2:
            continue
        stem = parts[0][: -len(".jpg")] if parts[0].endswith(".jpg") else parts[0]
        with open(f"{root}/{stem}_temp.jpg", "rb") as f:
            a = f.read()
        with open(f"{root}/{stem}_test.jpg", "rb") as f:
            b = f.read()
        truths = []
        for t in open(f"{root}/{parts[1]}"):
            v = t.replace(",", " ").split()
            if len(v) == 5:
                truths.append([float(q) for q in v[:4]])
        t0 = time.perf_counter()
        boxes = detect(a, b, kernel)
        times.append((time.perf_counter() - t0) * 1e3)
        n += 1
        preds = sorted(boxes, key=lambda q: -q[4])
        used = [False] * len(truths)
        for p in preds:
            pb = (p[0] - margin, p[1] - margin, p[2] + margin, p[3] + margin)
            best, bj = -1.0, -1
            for j, t in enumerate(truths):
                if not used[j]:
                    v = iou(pb, t)
                    if v >= 0.5 and v > best:
                        best, bj = v, j
            if bj >= 0:
                used[bj] = True
                tp += 1
            else:
                fp += 1
        fn += used.count(False)
    prec = tp / max(tp + fp, 1)
    rec = tp / max(tp + fn, 1)
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    print(json.dumps({
        "tool": "opencv " + cv2.__version__,
        "pairs": n,
        "ms_median": float(np.median(times)) if times else 0.0,
        "ms_mean": float(np.mean(times)) if times else 0.0,
        "precision": prec, "recall": rec, "f1": f1,
        "false_alarms_per_image": fp / max(n, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
