// ragstage: keep the side panel for what the reader asked to see.
// Chainlit 2.12 opens the side panel with every passage of the chat whenever an answer adds
// one; on a projector that hides the conversation. We close it again unless the reader just
// clicked a citation or chart chip.
(() => {
  const CLICK_GRACE_MS = 2000;
  let lastChipClick = 0;
  let lastTitle = null;

  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest(".element-link")) lastChipClick = Date.now();
  }, true);

  const closePanel = (title) => {
    const header = title.parentElement;
    const back = header && header.querySelector("button");
    if (back) back.click();
  };

  new MutationObserver(() => {
    const title = document.getElementById("side-view-title");
    if (!title) {
      lastTitle = null;
      return;
    }
    const text = title.textContent;
    if (text === lastTitle) return;
    lastTitle = text;
    if (Date.now() - lastChipClick > CLICK_GRACE_MS) closePanel(title);
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
})();
